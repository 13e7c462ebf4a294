package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/host"
)

// grants resolves plugin.env and plugin.mounts into the host's grants:
// bare names take the server's own value (a variable the server lacks is
// left out, and said so by name), and mount directories are checked and
// made absolute, so a worker with another working directory mounts the
// same one. Logs name variables and never show their values.
func grants(cfg config.Config, log *slog.Logger) ([]host.EnvVar, []host.Mount, error) {
	var env []host.EnvVar
	for _, g := range cfg.EnvGrants() {
		if g.FromServer {
			v, ok := os.LookupEnv(g.Name)
			if !ok {
				log.Warn("plugin.env: the server has no such variable; the plugin will not see it", "name", g.Name)
				continue
			}
			g.Value = v
		}
		env = append(env, host.EnvVar{Name: g.Name, Value: g.Value})
	}
	var mounts []host.Mount
	for i, g := range cfg.MountGrants() {
		dir, err := mountDir(g.HostDir)
		if err != nil {
			return nil, nil, usageError(&config.FieldError{Key: "plugin.mounts", Value: cfg.Plugin.Mounts[i], Msg: err.Error()})
		}
		mounts = append(mounts, host.Mount{HostDir: dir, GuestDir: g.GuestDir, Writable: g.Writable})
	}
	if len(env) > 0 || len(mounts) > 0 {
		log.Info("plugin grants", "env", envNames(env), "mounts", mountList(mounts))
	}
	return env, mounts, nil
}

// mountDir is dir made absolute, once it is known to be a directory.
func mountDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	switch {
	case err != nil:
		return "", fmt.Errorf("host directory %s: %w", abs, unwrapPath(err))
	case !fi.IsDir():
		return "", fmt.Errorf("host directory %s is not a directory", abs)
	}
	return abs, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func envNames(env []host.EnvVar) string {
	names := make([]string, len(env))
	for i, e := range env {
		names[i] = e.Name
	}
	return strings.Join(names, ",")
}

func mountList(ms []host.Mount) string {
	out := make([]string, len(ms))
	for i, m := range ms {
		mode := "ro"
		if m.Writable {
			mode = "rw"
		}
		out[i] = m.HostDir + ":" + m.GuestDir + ":" + mode
	}
	return strings.Join(out, ",")
}
