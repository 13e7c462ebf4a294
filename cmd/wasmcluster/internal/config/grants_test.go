package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// plugin.env and plugin.mounts from each source: a TOML array, a
// repeated flag, and a comma-separated (or JSON array) environment
// variable.
func TestGrantKeysSources(t *testing.T) {
	file := testkit.TempFile(t, "c.toml", []byte("[plugin]\nenv = [\"A\", \"B=x,y\"]\nmounts = [\"/srv:/srv\", \"/d:/d:rw\"]\n"))
	c, err := Load(viper.New(), nil, file)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A", "B=x,y"}; !reflect.DeepEqual(c.Plugin.Env, want) {
		t.Errorf("file: env %q, want %q", c.Plugin.Env, want)
	}
	want := []MountGrant{{"/srv", "/srv", false}, {"/d", "/d", true}}
	if got := c.MountGrants(); !reflect.DeepEqual(got, want) {
		t.Errorf("file: mounts %+v, want %+v", got, want)
	}

	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	AddFlags(fs)
	if err := fs.Parse([]string{"--plugin-env", "A=1,2", "--plugin-env", "B"}); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(viper.New(), fs, ""); err != nil || !reflect.DeepEqual(c.EnvGrants(),
		[]EnvGrant{{"A", "1,2", false}, {"B", "", true}}) {
		t.Errorf("flags: %+v, %v", c.EnvGrants(), err)
	}

	t.Setenv("WASMCLUSTER_PLUGIN_ENV", "X=1,Y")
	if c, err = Load(viper.New(), nil, ""); err != nil || !reflect.DeepEqual(c.Plugin.Env, []string{"X=1", "Y"}) {
		t.Errorf("environment: %q, %v", c.Plugin.Env, err)
	}
	t.Setenv("WASMCLUSTER_PLUGIN_ENV", `["X=1,2"]`)
	if c, err = Load(viper.New(), nil, ""); err != nil || !reflect.DeepEqual(c.Plugin.Env, []string{"X=1,2"}) {
		t.Errorf("environment as JSON: %q, %v", c.Plugin.Env, err)
	}
}

// Bad entries name the key and the entry, never an env value; the TOML
// output shows env names only.
func TestGrantKeysValidation(t *testing.T) {
	for _, tt := range []struct {
		env, mounts []string
		want        string
	}{
		{[]string{"=secret"}, nil, `plugin.env: "=…": empty variable name`},
		{[]string{"A-B=secret"}, nil, `plugin.env: "A-B=…": invalid variable name`},
		{[]string{"1A"}, nil, `plugin.env: "1A": invalid variable name`},
		{[]string{"A=secret", "A"}, nil, `plugin.env: "A": A is granted twice`},
		{nil, []string{"/srv"}, `plugin.mounts: "/srv": want HOSTDIR:GUESTDIR`},
		{nil, []string{":/srv"}, `plugin.mounts: ":/srv": empty host directory`},
		{nil, []string{"/srv:srv"}, `must be absolute`},
		{nil, []string{"/srv:/a/../b:rw"}, `is not clean`},
		{nil, []string{"/a:/x", "/b:/x:rw"}, `/x is mounted twice`},
	} {
		c := Default()
		c.Plugin.Env, c.Plugin.Mounts = tt.env, tt.mounts
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("env %q mounts %q: %v, want %q and no value", tt.env, tt.mounts, err, tt.want)
		}
	}
	c := Default()
	c.Plugin.Env = []string{"TOKEN=s3cr3tvalue", "HOME_DIR"}
	if out := c.TOML(); !strings.Contains(out, `env = ["TOKEN", "HOME_DIR"]`) || strings.Contains(out, "s3cr3tvalue") {
		t.Errorf("TOML output:\n%s", out)
	}
}
