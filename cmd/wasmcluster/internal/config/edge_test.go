package config

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// trusted_proxies is a TOML array in a file, a repeated or comma-separated
// flag, and comma-separated in the environment; a bad entry is named with its key.
func TestTrustedProxies(t *testing.T) {
	load := func(file string, args ...string) (Config, error) {
		t.Helper()
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		AddFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return Load(viper.New(), fs, file)
	}
	f := testkit.TempFile(t, "c.toml", []byte("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nproxy_protocol = true\n"))
	c, err := load(f)
	if err != nil || strings.Join(c.TrustedProxies, ",") != "10.0.0.0/8,::1" || !c.ProxyProtocol {
		t.Fatalf("file: %+v %v", c.TrustedProxies, err)
	}
	if !strings.Contains(c.TOML(), `trusted_proxies = ["10.0.0.0/8", "::1"]`) {
		t.Errorf("TOML() does not render the array:\n%s", c.TOML())
	}
	c, err = load("", "--trusted-proxies", " 192.0.2.7, fd00::/8 ")
	if err != nil || strings.Join(c.TrustedProxies, "|") != "192.0.2.7|fd00::/8" {
		t.Fatalf("flag: %q %v", c.TrustedProxies, err)
	}
	for _, tc := range []struct {
		file string
		args []string
		want string
	}{
		{"", []string{"--trusted-proxies", "10.0.0.0/8", "--trusted-proxies", "10.0.0.300"}, `entry "10.0.0.300": not an IP address`},
		{"", []string{"--trusted-proxies", "10.0.0.0/8,10.0.0.300"}, `config: trusted_proxies: "10.0.0.0/8,10.0.0.300": entry "10.0.0.300": not an IP address`},
		{"trusted_proxies = [\"10.0.0.0/40\"]\n", nil, `entry "10.0.0.0/40": not a CIDR prefix`},
		{"trusted_proxies = [1]\n", nil, `trusted_proxies: "(list)": entry 1 is not a string`},
		{"", []string{"--proxy-protocol"}, `config: proxy_protocol: "true": needs trusted_proxies`},
	} {
		file := ""
		if tc.file != "" {
			file = testkit.TempFile(t, "c.toml", []byte(tc.file))
		}
		if _, err := load(file, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %v: got %v, want %q", tc.file, tc.args, err, tc.want)
		}
	}
}
