package clientaddr

import "strings"

// element is what Resolve reads from one Forwarded element (RFC 7239 §4):
// its for= node and its proto=.
type element struct {
	forNode string
	proto   string
}

// forwarded parses the Forwarded header lines, in order, into their
// elements. Quoted strings may hold commas, semicolons and escapes; a
// malformed pair is skipped, not fatal (the element then has no for= and
// stops Resolve's walk there).
func forwarded(lines []string) []element {
	var out []element
	for _, line := range lines {
		for _, el := range splitQuoted(line, ',') {
			if strings.TrimSpace(el) == "" {
				continue
			}
			var e element
			for _, pair := range splitQuoted(el, ';') {
				name, value, ok := strings.Cut(pair, "=")
				if !ok {
					continue
				}
				switch strings.ToLower(strings.TrimSpace(name)) {
				case "for":
					e.forNode = unquote(strings.TrimSpace(value))
				case "proto":
					e.proto = unquote(strings.TrimSpace(value))
				}
			}
			out = append(out, e)
		}
	}
	return out
}

// splitQuoted splits s at sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unquote removes a quoted-string's quotes and backslash escapes; a token
// is returned as is.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
