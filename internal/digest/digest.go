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

// ShortOrDash is Short for a status line or a table column, where a blank
// would read as a formatting error: it shows no version (an empty hash) as
// "-".
func ShortOrDash(hash string) string {
	if hash == "" {
		return "-"
	}
	return Short(hash)
}
