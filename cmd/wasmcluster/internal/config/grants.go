package config

import (
	"fmt"
	"path"
	"strings"
)

// EnvGrant is one plugin.env entry: a variable the plugin sees. FromServer
// means the entry was a bare NAME, whose value is the server's own.
type EnvGrant struct {
	Name       string
	Value      string
	FromServer bool
}

// MountGrant is one plugin.mounts entry.
type MountGrant struct {
	HostDir, GuestDir string
	Writable          bool
}

// EnvGrants parses plugin.env (valid after Validate). Bare names are not
// resolved here: the caller looks them up in its environment.
func (c Config) EnvGrants() []EnvGrant {
	out := make([]EnvGrant, 0, len(c.Plugin.Env))
	for _, e := range c.Plugin.Env {
		name, value, set := strings.Cut(e, "=")
		out = append(out, EnvGrant{Name: name, Value: value, FromServer: !set})
	}
	return out
}

// MountGrants parses plugin.mounts (valid after Validate).
func (c Config) MountGrants() []MountGrant {
	out := make([]MountGrant, 0, len(c.Plugin.Mounts))
	for _, m := range c.Plugin.Mounts {
		g, _ := parseMount(m)
		out = append(out, g)
	}
	return out
}

// EnvNames are the names plugin.env grants, for output that must not show
// values.
func (c Config) EnvNames() []string {
	names := make([]string, 0, len(c.Plugin.Env))
	for _, g := range c.EnvGrants() {
		names = append(names, g.Name)
	}
	return names
}

// validateGrants checks plugin.env and plugin.mounts. An env entry is
// reported by its name only: its value may be a secret.
func (c Config) validateGrants(errs *fieldErrors) {
	seen := map[string]bool{}
	for _, e := range c.Plugin.Env {
		name, _, set := strings.Cut(e, "=")
		shown := name
		if set {
			shown += "=…"
		}
		switch {
		case name == "":
			errs.bad("plugin.env", shown, "empty variable name (want NAME or NAME=value)")
		case !validEnvName(name):
			errs.bad("plugin.env", shown, "invalid variable name: letters, digits and _ only, not starting with a digit")
		case seen[name]:
			errs.bad("plugin.env", shown, "%s is granted twice", name)
		}
		seen[name] = true
	}
	guests := map[string]bool{}
	for _, m := range c.Plugin.Mounts {
		g, msg := parseMount(m)
		if msg == "" && guests[g.GuestDir] {
			msg = fmt.Sprintf("%s is mounted twice", g.GuestDir)
		}
		if msg != "" {
			errs.bad("plugin.mounts", m, "%s", msg)
		}
		guests[g.GuestDir] = true
	}
}

func validEnvName(name string) bool {
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return name != ""
}

// parseMount reads HOSTDIR:GUESTDIR[:ro|:rw]; msg says what is wrong.
func parseMount(s string) (MountGrant, string) {
	var g MountGrant
	rest := s
	if r, ok := strings.CutSuffix(s, ":rw"); ok {
		rest, g.Writable = r, true
	} else if r, ok := strings.CutSuffix(s, ":ro"); ok {
		rest = r
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return g, "want HOSTDIR:GUESTDIR, optionally followed by :ro (the default) or :rw"
	}
	g.HostDir, g.GuestDir = rest[:i], rest[i+1:]
	switch {
	case g.HostDir == "":
		return g, "empty host directory"
	case !strings.HasPrefix(g.GuestDir, "/"):
		return g, fmt.Sprintf("guest directory %q must be absolute", g.GuestDir)
	case path.Clean(g.GuestDir) != g.GuestDir:
		return g, fmt.Sprintf("guest directory %q is not clean (want %q)", g.GuestDir, path.Clean(g.GuestDir))
	}
	return g, ""
}
