package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/workers/systemd"
)

// newStartupCmd is `wasmcluster startup systemd`, the counterpart of
// `pm2 startup`: it prints units to install rather than installing them, so
// the operator sees and owns what goes into /etc.
func newStartupCmd(stdout io.Writer) *cobra.Command {
	startup := &cobra.Command{
		Use:   "startup",
		Short: "Print service-manager units that run wasmcluster at boot",
	}
	var (
		o   systemd.UnitOptions
		dir string
	)
	sd := &cobra.Command{
		Use:   "systemd PLUGIN.wasm|nats://HOST:PORT/BUCKET/NAME",
		Short: "Print a systemd service unit (and with --socket a socket unit)",
		Long: `Print a systemd unit that serves PLUGIN with Type=notify (READY/RELOADING/
STOPPING and watchdog pings), ExecReload=wasmcluster reload --wait (a
systemctl reload rolls the workers and fails if the roll fails), restart on
failure, TimeoutStopSec above the drain timeout, and a sandbox.

  wasmcluster startup systemd /srv/plugin.wasm > /etc/systemd/system/wasmcluster.service
  systemctl daemon-reload && systemctl enable --now wasmcluster

With --socket, systemd owns the listening socket (socket activation), so it
stays open across restarts of the service; --dir writes both files.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plugin, err := unitPlugin(args[0])
			if err != nil {
				return usageError(err)
			}
			o.Plugin = plugin
			if o.Binary == "" {
				if o.Binary, err = os.Executable(); err != nil {
					return fmt.Errorf("find the wasmcluster binary (pass --binary): %w", err)
				}
				if strings.Contains(o.Binary, "go-build") {
					fmt.Fprintln(cmd.ErrOrStderr(), "warning: this binary was built by `go run` in a temporary directory; pass --binary /usr/local/bin/wasmcluster")
				}
			}
			if err := o.Validate(); err != nil {
				return usageError(err)
			}
			return writeUnits(stdout, dir, o)
		},
	}
	f := sd.Flags()
	f.StringVar(&o.Name, "name", "wasmcluster", "unit name (without .service)")
	f.StringVar(&o.Binary, "binary", "", "absolute path of the wasmcluster binary (default: this binary)")
	f.StringVar(&o.Listen, "listen", ":8080", "address to listen on (ignored with --socket)")
	f.StringVar(&o.Config, "config-file", "", "config file the service passes with --config")
	f.StringVar(&o.User, "user", "", "run as this user (default root, or see --dynamic-user)")
	f.BoolVar(&o.DynamicUser, "dynamic-user", false, "let systemd allocate a throwaway user")
	f.DurationVar(&o.DrainTimeout, "drain-timeout", 30*time.Second, "the service's drain timeout; TimeoutStopSec is set 15s above it")
	f.DurationVar(&o.WatchdogSec, "watchdog", 30*time.Second, "WatchdogSec: systemd restarts the service when the primary stops pinging")
	f.BoolVar(&o.Socket, "socket", false, "also print a .socket unit and take the listener from systemd")
	f.StringVar(&o.SocketListen, "socket-listen", "", "ListenStream= of the socket unit (default: --listen's address)")
	f.StringVar(&dir, "dir", "", "write NAME.service (and NAME.socket) into this directory instead of printing")
	startup.AddCommand(sd)
	return startup
}

func writeUnits(stdout io.Writer, dir string, o systemd.UnitOptions) error {
	units := []struct{ name, text string }{{o.Name + ".service", systemd.ServiceUnit(o)}}
	if o.Socket {
		units = append(units, struct{ name, text string }{o.Name + ".socket", systemd.SocketUnit(o)})
	}
	for i, u := range units {
		if dir != "" {
			path := filepath.Join(dir, u.name)
			if err := os.WriteFile(path, []byte(u.text), 0o644); err != nil {
				return fmt.Errorf("write unit: %w", err)
			}
			fmt.Fprintln(stdout, path)
			continue
		}
		if len(units) > 1 {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprintf(stdout, "# ---- %s ----\n", u.name)
		}
		fmt.Fprint(stdout, u.text)
	}
	return nil
}

// unitPlugin is the plugin the unit serves: an absolute path, or a nats://
// source as given (checked here, since the service would only fail later).
func unitPlugin(arg string) (string, error) {
	if fleet.IsSource(arg) {
		if _, err := fleet.ParseSource(arg); err != nil {
			return "", err
		}
		return arg, nil
	}
	plugin, err := filepath.Abs(arg)
	if err != nil {
		return "", fmt.Errorf("plugin %q: %w", arg, err)
	}
	return plugin, nil
}
