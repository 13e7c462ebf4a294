package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix prefixes every environment variable: WASMCLUSTER_<KEY>.
const EnvPrefix = "WASMCLUSTER"

// Key is one setting, derived from a field of Config.
type Key struct {
	Name  string // dotted TOML key, e.g. "plugin.pool_size"
	Help  string // flag usage
	index []int  // field path in Config
	typ   reflect.Type
	// namesOnly: a list of NAME=value entries printed as their names
	// (tag print:"names"), so a value never reaches output or errors.
	namesOnly bool
}

// Flag is the command-line flag name (without "--"): "plugin-pool-size".
func (k Key) Flag() string {
	return strings.NewReplacer(".", "-", "_", "-").Replace(k.Name)
}

// Env is the environment variable: "WASMCLUSTER_PLUGIN_POOL_SIZE".
func (k Key) Env() string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_"))
}

// Section is the TOML table the key lives in ("" for top level) and Leaf its
// name inside it.
func (k Key) Section() string {
	i := strings.LastIndexByte(k.Name, '.')
	if i < 0 {
		return ""
	}
	return k.Name[:i]
}

// Leaf is the key's name inside its section.
func (k Key) Leaf() string { return k.Name[strings.LastIndexByte(k.Name, '.')+1:] }

// TypeName names the value type in flag usage ("duration", "size", ...).
// Deliberately not "int" or "bool": viper would coerce those itself and turn
// "abc" into 0 before we could report it.
func (k Key) TypeName() string {
	switch k.typ {
	case durationType:
		return "duration"
	case sizeType:
		return "size"
	case listType:
		return listTypeName
	}
	switch k.typ.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint32:
		return "number"
	case reflect.Bool:
		return "true|false"
	}
	return "string"
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[Size]()
	listType     = reflect.TypeFor[[]string]()
	keys         = collectKeys(reflect.TypeFor[Config](), "", nil)
)

// Keys lists every setting in declaration order (top level first, then each
// section).
func Keys() []Key { return keys }

// lookupKey finds a key by its dotted name.
func lookupKey(name string) (Key, bool) {
	for _, k := range keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

func collectKeys(t reflect.Type, prefix string, index []int) []Key {
	var out, nested []Key
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("toml")
		if name == "" || name == "-" {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			nested = append(nested, collectKeys(f.Type, prefix+name+".", idx)...)
			continue
		}
		out = append(out, Key{Name: prefix + name, Help: f.Tag.Get("help"), index: idx, typ: f.Type,
			namesOnly: f.Tag.Get("print") == "names"})
	}
	return append(out, nested...)
}

// field is the struct field of c that k names.
func (k Key) field(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(k.index)
}

// Get renders k's value in c the way a flag or environment variable spells it.
func (k Key) Get(c Config) string {
	v := k.field(&c)
	switch k.typ {
	case durationType:
		return formatDuration(time.Duration(v.Int()))
	case sizeType:
		return Size(v.Int()).String()
	case listType:
		return strings.Join(k.printable(v.Interface().([]string)), ",")
	}
	return fmt.Sprint(v.Interface())
}

// set decodes raw (a string from a flag or the environment, or whatever type
// the TOML decoder produced) into k's field of c. The error message is the
// part after "key: value: ".
func (k Key) set(c *Config, raw any) (string, error) {
	text := fmt.Sprint(raw)
	fail := func(msg string) (string, error) { return text, fmt.Errorf("%s", msg) }
	v := k.field(c)
	switch k.typ {
	case durationType:
		s, ok := raw.(string)
		if !ok {
			return fail(`invalid duration (want a string such as "30s" or "1m30s")`)
		}
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fail(`invalid duration (want a number with a unit such as "30s" or "1m30s")`)
		}
		v.SetInt(int64(d))
		return text, nil
	case sizeType:
		n, err := toSize(raw)
		if err != nil {
			return fail(err.Error())
		}
		v.SetInt(int64(n))
		return text, nil
	case listType:
		return k.setList(c, raw) // list.go
	}
	switch k.typ.Kind() {
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			return fail("want a string")
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := toBool(raw)
		if !ok {
			return fail("want true or false")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Uint32:
		n, ok := toInt(raw)
		if !ok {
			return fail("not an integer")
		}
		switch {
		case k.typ.Kind() == reflect.Uint32 && (n < 0 || n > math.MaxUint32):
			return fail("out of range")
		case k.typ.Kind() == reflect.Uint32:
			v.SetUint(uint64(n))
		default:
			v.SetInt(n)
		}
	default:
		panic("config: unsupported field type " + k.typ.String() + " for " + k.Name)
	}
	return text, nil
}

func toBool(raw any) (bool, bool) {
	if s, isStr := raw.(string); isStr {
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		return b, err == nil
	}
	b, ok := raw.(bool)
	return b, ok
}

func toInt(raw any) (int64, bool) {
	switch x := raw.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case uint32:
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func toSize(raw any) (Size, error) {
	if s, ok := raw.(string); ok {
		return ParseSize(s)
	}
	if n, ok := toInt(raw); ok {
		return Size(n), nil
	}
	return 0, errSize
}

// formatDuration writes d in the shortest form that parses back exactly
// ("2m", not "2m0s").
func formatDuration(d time.Duration) string {
	for _, u := range []struct {
		name string
		unit time.Duration
	}{{"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if d != 0 && d%u.unit == 0 {
			return strconv.FormatInt(int64(d/u.unit), 10) + u.name
		}
	}
	return d.String()
}
