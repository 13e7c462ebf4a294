package config

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// AddFlags registers one flag per key on fs, with Default() as the shown
// default. Values are kept as raw strings and decoded by Load, so a bad flag
// value gets the same error as a bad environment or file value.
func AddFlags(fs *pflag.FlagSet) {
	def := Default()
	for _, k := range keys {
		var val pflag.Value = &rawFlag{typ: k.TypeName(), val: k.Get(def)}
		if k.typ == listType {
			val = &listFlag{} // list.go: repeatable
		}
		f := fs.VarPF(val, k.Flag(), "", k.Help)
		f.DefValue = k.Get(def)
		if k.TypeName() == "true|false" {
			f.NoOptDefVal = "true"
		}
	}
}

// rawFlag stores a flag's text unparsed.
type rawFlag struct{ typ, val string }

func (f *rawFlag) String() string     { return f.val }
func (f *rawFlag) Set(s string) error { f.val = s; return nil }
func (f *rawFlag) Type() string       { return f.typ }

// Load builds the effective Config: Default(), then the TOML file (if file
// is not empty), then WASMCLUSTER_* environment variables, then flags of fs
// that were set on the command line (fs may be nil). It binds every key on
// v, which should be fresh. All problems are reported at once; each is a
// *FieldError or names the file, and all of them are configuration errors.
func Load(v *viper.Viper, fs *pflag.FlagSet, file string) (Config, error) {
	if err := bindKeys(v, fs); err != nil {
		return Config{}, err
	}
	var errs []error
	if file != "" {
		v.SetConfigFile(file)
		v.SetConfigType("toml") // whatever the extension: one format, one set of docs
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("config: %s: %w", file, err)
		}
		errs = append(errs, unknownKeys(v, file)...)
	}

	source := func(k Key) string {
		if fs != nil {
			if f := fs.Lookup(k.Flag()); f != nil && f.Changed {
				return "flag --" + k.Flag()
			}
		}
		if os.Getenv(k.Env()) != "" {
			return "env " + k.Env()
		}
		if file != "" && v.InConfig(k.Name) {
			return "file " + file
		}
		return ""
	}

	c, undecoded, decodeErrs := decode(v, source)
	errs = append(errs, decodeErrs...)
	c.TrustedProxies = splitCommas(c.TrustedProxies) // edge.go
	for _, e := range c.validate() {
		if undecoded[e.Key] {
			continue // already reported; the field still holds its default
		}
		if k, ok := lookupKey(e.Key); ok {
			e.Source = source(k)
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// bindKeys binds every key on v to its flag in fs (if any) and its
// environment variable.
func bindKeys(v *viper.Viper, fs *pflag.FlagSet) error {
	for _, k := range keys {
		if fs != nil {
			if f := fs.Lookup(k.Flag()); f != nil {
				if err := v.BindPFlag(k.Name, f); err != nil {
					return fmt.Errorf("config: bind flag --%s: %w", k.Flag(), err)
				}
			}
		}
		if err := v.BindEnv(k.Name, k.Env()); err != nil {
			return fmt.Errorf("config: bind env %s: %w", k.Env(), err)
		}
	}
	return nil
}

// decode sets each key v holds onto Default(); the keys that did not decode
// keep their default and are returned, so validation does not report them
// twice.
func decode(v *viper.Viper, source func(Key) string) (Config, map[string]bool, []error) {
	var errs []error
	c := Default()
	undecoded := map[string]bool{}
	for _, k := range keys {
		raw := v.Get(k.Name)
		if raw == nil {
			continue
		}
		set := k.set
		if k.typ == listType {
			set = k.setList // list.go
		}
		if text, err := set(&c, raw); err != nil {
			errs = append(errs, &FieldError{Key: k.Name, Value: text, Msg: err.Error(), Source: source(k)})
			undecoded[k.Name] = true
		}
	}
	return c, undecoded, errs
}

// unknownKeys reports keys in the file that no field declares, with a
// suggestion when one is close, so a typo is never silently ignored.
func unknownKeys(v *viper.Viper, file string) []error {
	var errs []error
	all := v.AllKeys()
	slices.Sort(all)
	for _, name := range all {
		if _, ok := lookupKey(name); ok {
			continue
		}
		msg := fmt.Sprintf("config: %s: unknown key %q", file, name)
		if s := suggest(name); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		errs = append(errs, errors.New(msg))
	}
	return errs
}

// suggest returns the known key closest to name, if it is close enough to be
// a typo.
func suggest(name string) string {
	best, bestDist := "", len(name)/3+1
	for _, k := range keys {
		if d := editDistance(name, k.Name); d < bestDist {
			best, bestDist = k.Name, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
