package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// --outbound-allow is repeatable; the environment takes comma-separated
// entries.
func TestOutboundAllowSources(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	AddFlags(fs)
	if err := fs.Parse([]string{"--outbound-allow", "http://127.0.0.1:3000", "--outbound-allow", "https://*.example.com"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(viper.New(), fs, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://127.0.0.1:3000", "https://*.example.com"}; !reflect.DeepEqual(c.Outbound.Allow, want) {
		t.Errorf("flags: allow = %q, want %q", c.Outbound.Allow, want)
	}
	t.Setenv("WASMCLUSTER_OUTBOUND_ALLOW", "http://[::1]:8080,http://10.0.0.0/8")
	c, err = Load(viper.New(), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://[::1]:8080", "http://10.0.0.0/8"}; !reflect.DeepEqual(c.Outbound.Allow, want) {
		t.Errorf("env: allow = %q, want %q", c.Outbound.Allow, want)
	}
}

// A bad entry is refused naming outbound.allow, the entry and what is
// wrong; so are bad limits.
func TestOutboundValidation(t *testing.T) {
	c := Default()
	c.Outbound.Allow = []string{"https://ok.example.com", "api.example.com", "http://h:99999"}
	c.Outbound.Timeout = 0
	c.Outbound.MaxConcurrent = -1
	err := c.Validate()
	var got []string
	for _, e := range unwrapJoined(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			got = append(got, fe.Error())
		}
	}
	for _, want := range []string{
		`config: outbound.allow: "api.example.com": want scheme://host[:port]`,
		`config: outbound.allow: "http://h:99999": port "99999": want 1..65535 or *`,
		`config: outbound.timeout: "0s": must be positive`,
		`config: outbound.max_concurrent: "-1": must be 1..65536`,
	} {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, want)
		}
		if !found {
			t.Errorf("no error starting %q in %q", want, got)
		}
	}
}

func unwrapJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
