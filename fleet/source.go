package fleet

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Source is a parsed nats://HOST:PORT[,HOST:PORT…]/BUCKET/NAME.
type Source struct {
	Servers []string // nats://HOST:PORT each
	Bucket  string
	Name    string
}

// IsSource reports whether s names a NATS plugin source rather than a file.
func IsSource(s string) bool { return strings.HasPrefix(s, "nats://") }

var (
	bucketRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// ParseSource parses s, naming what is wrong in s.
func ParseSource(s string) (Source, error) {
	rest, ok := strings.CutPrefix(s, "nats://")
	if !ok {
		return Source{}, fmt.Errorf("plugin source %q: want nats://HOST:PORT[,HOST:PORT…]/BUCKET/NAME", s)
	}
	// Each server may repeat the scheme, as kv.url's list does.
	parts := strings.Split(strings.ReplaceAll(rest, ",nats://", ","), "/")
	if len(parts) != 3 || parts[0] == "" {
		return Source{}, fmt.Errorf("plugin source %q: want nats://HOST:PORT[,HOST:PORT…]/BUCKET/NAME", s)
	}
	src := Source{Bucket: parts[1], Name: parts[2]}
	if !bucketRE.MatchString(src.Bucket) {
		return Source{}, fmt.Errorf("plugin source %q: bucket %q: letters, digits, - and _ only", s, src.Bucket)
	}
	if !nameRE.MatchString(src.Name) {
		return Source{}, fmt.Errorf("plugin source %q: name %q: letters, digits, - and _ only", s, src.Name)
	}
	for _, h := range strings.Split(parts[0], ",") {
		h = strings.TrimPrefix(h, "nats://")
		if h == "" {
			return Source{}, fmt.Errorf("plugin source %q: empty server address", s)
		}
		src.Servers = append(src.Servers, "nats://"+h)
	}
	return src, nil
}

// String is the source as given, without credentials.
func (s Source) String() string {
	hosts := make([]string, len(s.Servers))
	for i, h := range s.Servers {
		h = strings.TrimPrefix(h, "nats://")
		if at := strings.LastIndex(h, "@"); at >= 0 {
			h = h[at+1:]
		}
		hosts[i] = h
	}
	return "nats://" + strings.Join(hosts, ",") + "/" + s.Bucket + "/" + s.Name
}

// versionsBucket and fleetBucket are the KV buckets beside the object
// store: the publish history and the live instances.
func (s Source) versionsBucket() string { return s.Bucket + "_versions" }
func (s Source) fleetBucket() string    { return s.Bucket + "_fleet" }

// rollingBucket holds the roll slots of --max-unavailable; slotKey is
// slot i of the name.
func (s Source) rollingBucket() string { return s.Bucket + "_rolling" }
func (s Source) slotKey(i int) string  { return s.Name + ".slot." + strconv.Itoa(i) }

// versionObject is the history's copy of a version.
func (s Source) versionObject(hash string) string { return s.Name + "@" + hash }

// canaryKey is the canary in progress, in the versions bucket.
func (s Source) canaryKey() string { return s.Name + ".canary" }
