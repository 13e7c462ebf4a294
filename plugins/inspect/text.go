package inspect

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// WriteText writes r for a terminal: imports by group with signatures,
// exports, memory, then one line per capability.
func (r *Report) WriteText(w io.Writer, name string) error {
	p := &printer{w: w}
	p.f("plugin %s: %d bytes (%s)\n", name, r.Size, byteSize(uint64(r.Size)))
	p.f("\nimports:\n")
	p.group("http_handler", r.Imports.HTTPHandler, "")
	groups := []string{GroupKV, GroupOutbound, GroupCommon, GroupUnknown}
	for g := range r.Imports.Extension {
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	for _, g := range groups {
		note := ""
		if g == GroupUnknown {
			note = " — unknown to this host: refused at load"
		}
		p.group("wasmcluster "+g, r.Imports.Extension[g], note)
	}
	p.group("wasi", r.Imports.WASI, "")
	p.group("env", r.Imports.Env, "")
	p.group("other modules", r.Imports.Other, " — no such module here: refused at load")
	p.f("\nexports (%d):\n", len(r.Exports))
	for _, f := range r.Exports {
		p.f("  %s %s\n", f.Name, f.Signature())
	}
	p.f("\nmemory:\n")
	if len(r.Memories) == 0 {
		p.f("  none\n")
	}
	for _, m := range r.Memories {
		max := "none declared"
		if m.HasMax {
			max = fmt.Sprintf("%d pages", m.Max)
		}
		kind := "exported"
		if m.Imported {
			kind = "imported"
		}
		p.f("  %s (%s): min %d pages (%s), max %s, cap %d pages (%s)\n", m.Name, kind, m.Min,
			byteSize(uint64(m.Min)<<16), max, m.CapPages, byteSize(uint64(m.CapPages)<<16))
	}
	p.f("\ncapabilities:\n")
	for _, c := range r.Capabilities {
		p.f("  %-9s %s; %s (%s)\n", c.Name, capUse(c), capGrant(c), c.Detail)
	}
	return p.err
}

func capUse(c Capability) string {
	if c.Uses {
		return "imported"
	}
	return "not imported"
}

func capGrant(c Capability) string {
	switch {
	case c.LoadRefused:
		return "REFUSED AT LOAD"
	case c.Granted:
		return "granted by " + c.Key
	}
	return "not granted"
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// group prints one import group, names and signatures, or nothing when
// the module imports none of it.
func (p *printer) group(title string, fs []Func, note string) {
	if len(fs) == 0 {
		return
	}
	p.f("  %s (%d)%s:\n", title, len(fs), note)
	for _, f := range fs {
		name := f.Name
		if title == "other modules" {
			name = f.Module + "." + f.Name
		}
		p.f("    %s %s\n", name, f.Signature())
	}
}

// byteSize writes n bytes in binary units.
func byteSize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0") + " " + units[i]
}
