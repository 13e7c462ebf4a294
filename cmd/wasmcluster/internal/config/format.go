package config

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// TOML renders c as a TOML document that Load reads back to c: top-level keys
// first, then one table per section, each key preceded by its help text.
func (c Config) TOML() string {
	var b strings.Builder
	section := ""
	for i, k := range keys {
		if s := k.Section(); s != section {
			section = s
			fmt.Fprintf(&b, "\n[%s]\n", s)
		} else if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "# %s\n%s = %s\n", k.Help, k.Leaf(), k.tomlValue(c))
	}
	return b.String()
}

func (k Key) tomlValue(c Config) string {
	switch k.TypeName() {
	case "number", "true|false":
		return k.Get(c)
	case "list":
		return tomlList(List(k.Get(c)))
	}
	return quoteTOML(k.Get(c))
}

// quoteTOML writes s as a TOML basic string. strconv.Quote is not enough:
// TOML has no \x escapes.
func quoteTOML(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case utf8.RuneError:
			b.WriteString(`\uFFFD`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
