package digest

// ShortLen is how many characters of a hash Short keeps.
const ShortLen = 12

// Short returns the first ShortLen characters of hash, or all of it when it
// is shorter (an empty or abbreviated version stays as it is).
func Short(hash string) string {
	if len(hash) > ShortLen {
		return hash[:ShortLen]
	}
	return hash
}
