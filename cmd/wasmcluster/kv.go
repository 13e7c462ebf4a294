package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// kvConfig maps the [kv] section onto the store's plain struct; nil when
// the store is off. The NATS token is read from kv.token_file here, so it
// is in no flag, environment variable or `wasmcluster config` output.
func kvConfig(cfg config.Config) (*kv.Config, error) {
	k := cfg.KV
	if k.KVScheme() == config.KVOff {
		return nil, nil
	}
	dir := k.Dir
	if dir == "" && k.KVScheme() == "embedded" {
		dir = defaultKVDir(cfg.Listen)
	}
	c := &kv.Config{URL: k.URL, Dir: dir, Bucket: k.Bucket, Replicas: k.Replicas, MaxValue: int(k.MaxValue),
		Timeout: k.Timeout, CredsFile: k.CredsFile, NKeyFile: k.NKeyFile}
	if k.TokenFile != "" {
		b, err := os.ReadFile(k.TokenFile)
		if err != nil {
			return nil, usageError(&config.FieldError{Key: "kv.token_file", Value: k.TokenFile, Msg: err.Error()})
		}
		c.Token = strings.TrimSpace(string(b))
	}
	return c, nil
}

// defaultKVDir is kv.dir's default for an instance listening on listen:
// one directory per listen address under kv.DefaultDir(), so two instances
// on one machine (two sites, two ports) each get their own embedded store
// instead of the second being refused, and a restart on the same address
// finds its data again.
func defaultKVDir(listen string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, listen)
	return filepath.Join(kv.DefaultDir(), "listen-"+name)
}

// printKV is status's line about the shared store: backend, health, where
// the embedded one keeps its data, and the plugins' calls by op and result.
func printKV(w io.Writer, st *control.KVStatus) {
	if st == nil {
		fmt.Fprintln(w, `kv store: off (kv.url = "off")`)
		return
	}
	health := "healthy"
	if !st.Healthy {
		health = "UNAVAILABLE: " + st.Error
	}
	fmt.Fprintf(w, "kv store: %s, %s", st.Backend, health)
	if st.Dir != "" {
		fmt.Fprintf(w, ", data in %s", st.Dir)
	}
	fmt.Fprintln(w)
	for _, op := range slices.Sorted(maps.Keys(st.Ops)) {
		var parts []string
		for _, r := range slices.Sorted(maps.Keys(st.Ops[op])) {
			parts = append(parts, fmt.Sprintf("%s %d", r, st.Ops[op][r]))
		}
		fmt.Fprintf(w, "  kv %s: %s\n", op, strings.Join(parts, ", "))
	}
}
