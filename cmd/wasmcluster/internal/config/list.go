package config

import (
	"fmt"
	"reflect"
	"strings"
)

// List is a list of strings kept in one comparable value (Config stays
// comparable with ==): its items joined by commas, so items cannot hold
// commas. In a file it is a TOML array of strings; a flag or environment
// variable spells it comma-separated ("10.0.0.0/8,::1").
type List string

var listType = reflect.TypeFor[List]()

// Items are l's items; nil when l is empty.
func (l List) Items() []string {
	if l == "" {
		return nil
	}
	return strings.Split(string(l), ",")
}

// toList decodes a TOML array of strings, or a comma-separated string.
func toList(raw any) (List, error) {
	var items []string
	switch x := raw.(type) {
	case string:
		items = strings.Split(x, ",")
	case []string:
		items = x
	case []any:
		for _, it := range x {
			s, ok := it.(string)
			if !ok {
				return "", fmt.Errorf("want an array of strings, found %v", it)
			}
			items = append(items, s)
		}
	default:
		return "", fmt.Errorf(`want an array of strings such as ["10.0.0.0/8"]`)
	}
	var out []string
	for _, it := range items {
		it = strings.TrimSpace(it)
		if strings.Contains(it, ",") {
			return "", fmt.Errorf("item %q: commas are not allowed in an item", it)
		}
		if it != "" {
			out = append(out, it)
		}
	}
	return List(strings.Join(out, ",")), nil
}

// setList decodes raw into v, a List; the text is the value as read.
func setList(v reflect.Value, raw any, text string) (string, error) {
	l, err := toList(raw)
	if err != nil {
		return text, err
	}
	v.SetString(string(l))
	return string(l), nil
}

// tomlList renders l as a TOML array.
func tomlList(l List) string {
	items := l.Items()
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = quoteTOML(it)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
