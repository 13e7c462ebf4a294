package inspect

import (
	"strings"
)

// Grants is what a configuration grants a plugin, as inspect needs it.
// The Has fields say whether the configuration has the capability's key
// at all (a build without it cannot grant it).
type Grants struct {
	HasKV bool
	KVURL string // kv.url; "off" refuses a plugin importing kv_ functions

	HasOutbound   bool
	OutboundAllow []string // outbound.allow; empty: every call is refused

	Env    []string // names plugin.env grants (never values)
	Mounts []string // plugin.mounts entries

	MemoryLimitPages uint32 // plugin.memory_limit_pages; 0: no cap
}

// Capability is one thing a plugin may reach beyond its request, whether
// its imports allow it to try, and whether it is granted.
type Capability struct {
	Name    string `json:"name"` // kv, outbound, env, files
	Key     string `json:"key"`  // the configuration key that grants it
	Uses    bool   `json:"uses"` // the module imports what it needs
	Granted bool   `json:"granted"`
	Detail  string `json:"detail"` // what is granted, or what happens without
	// LoadRefused: the plugin is refused at load as things stand.
	LoadRefused bool `json:"load_refused,omitempty"`
}

// capabilities lists every capability, used or not, in a fixed order.
func capabilities(im Imports, g Grants) []Capability {
	return []Capability{kvCap(im, g), outboundCap(im, g), envCap(im, g), filesCap(im, g)}
}

func kvCap(im Imports, g Grants) Capability {
	c := Capability{Name: "kv", Key: "kv.url", Uses: len(im.Extension[GroupKV]) > 0}
	switch {
	case !g.HasKV:
		c.Detail = "this build has no kv.url: the kv_ functions are unknown and refused at load"
		c.LoadRefused = c.Uses
	case g.KVURL == "off":
		c.Detail = "kv.url is off: a plugin importing kv_ functions is refused at load"
		c.LoadRefused = c.Uses
	default:
		c.Granted = true
		c.Detail = "kv.url = " + displayURL(g.KVURL)
		if g.KVURL == "" {
			c.Detail = "kv.url is empty: the default store"
		}
	}
	return c
}

func outboundCap(im Imports, g Grants) Capability {
	c := Capability{Name: "outbound", Key: "outbound.allow", Uses: len(im.Extension[GroupOutbound]) > 0}
	switch {
	case !g.HasOutbound:
		c.Detail = "this build has no outbound.allow: the outbound_ functions are unknown and refused at load"
		c.LoadRefused = c.Uses
	case len(g.OutboundAllow) == 0:
		c.Detail = "outbound.allow is empty: every call fails with a not-granted status"
	default:
		c.Granted = true
		c.Detail = "allowed: " + strings.Join(g.OutboundAllow, ", ")
	}
	return c
}

func envCap(im Imports, g Grants) Capability {
	return listCap(Capability{Name: "env", Key: "plugin.env", Uses: hasWASI(im, "environ_get", "environ_sizes_get")},
		g.Env, "none: the plugin sees an empty environment", "variables: ")
}

func filesCap(im Imports, g Grants) Capability {
	return listCap(Capability{Name: "files", Key: "plugin.mounts", Uses: hasWASI(im, "path_open", "fd_prestat_get")},
		g.Mounts, "none: no file system is visible", "mounts: ")
}

// listCap completes c for a capability granted by a list key: granted
// when list has entries, which the detail names after label.
func listCap(c Capability, list []string, none, label string) Capability {
	if len(list) == 0 {
		c.Detail = none
		return c
	}
	c.Granted = true
	c.Detail = label + strings.Join(list, ", ")
	return c
}

func hasWASI(im Imports, names ...string) bool {
	for _, f := range im.WASI {
		for _, n := range names {
			if f.Name == n {
				return true
			}
		}
	}
	return false
}

// displayURL drops a URL's user info, which may hold a password.
func displayURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	if at := strings.LastIndexByte(strings.SplitN(rest, "/", 2)[0], '@'); at >= 0 {
		rest = rest[at+1:]
	}
	return scheme + "://" + rest
}
