package main

import (
	"os"
	"strings"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/kv"
)

// kvConfig maps the [kv] section onto the store's plain struct; nil when
// the store is off. The NATS token is read from kv.token_file here, so it
// is in no flag, environment variable or `wasmcluster config` output.
func kvConfig(cfg config.Config) (*kv.Config, error) {
	k := cfg.KV
	if k.KVScheme() == config.KVOff {
		return nil, nil
	}
	c := &kv.Config{URL: k.URL, Dir: k.Dir, Bucket: k.Bucket, Replicas: k.Replicas, MaxValue: int(k.MaxValue),
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
