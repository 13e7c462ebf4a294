package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// listTypeName is the flag type of a list key: a flag given once per
// entry (--plugin-env A --plugin-env B=1), a TOML array in a file, and
// comma-separated entries (or a JSON array) in an environment variable.
const listTypeName = "strings"

// listFlag collects a list key's flag: each use adds an entry. Its text is
// a JSON array, so an entry holding a comma survives the trip through
// viper to setList.
type listFlag struct{ vals []string }

func (f *listFlag) String() string {
	if len(f.vals) == 0 {
		return ""
	}
	b, _ := json.Marshal(f.vals)
	return string(b)
}

func (f *listFlag) Set(s string) error { f.vals = append(f.vals, s); return nil }
func (f *listFlag) Type() string       { return listTypeName }

// setList decodes raw into k's []string field of c. The text it returns
// for an error is never an entry itself (a plugin.env entry holds a value).
func (k Key) setList(c *Config, raw any) (string, error) {
	var out []string
	switch x := raw.(type) {
	case []string:
		out = append(out, x...)
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return "(list)", fmt.Errorf("entry %d is not a string", i+1)
			}
			out = append(out, s)
		}
	case string:
		x = strings.TrimSpace(x)
		switch {
		case strings.HasPrefix(x, "["):
			if err := json.Unmarshal([]byte(x), &out); err != nil {
				return "(list)", fmt.Errorf("want a JSON array of strings")
			}
		case x != "":
			out = strings.Split(x, ",")
		}
	default:
		return "(list)", fmt.Errorf("want a list of strings")
	}
	if len(out) == 0 {
		out = nil // equal to the default, as an empty TOML array should be
	}
	k.field(c).Set(reflect.ValueOf(out))
	return "(list)", nil
}

// printable is the list as output may show it: the entries, or for a
// names-only key each entry's name.
func (k Key) printable(list []string) []string {
	if !k.namesOnly {
		return list
	}
	out := make([]string, len(list))
	for i, e := range list {
		out[i], _, _ = strings.Cut(e, "=")
	}
	return out
}

// tomlList renders a list key as a TOML array.
func (k Key) tomlList(c Config) string {
	list := k.printable(k.field(&c).Interface().([]string))
	quoted := make([]string, len(list))
	for i, e := range list {
		quoted[i] = quoteTOML(e)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
