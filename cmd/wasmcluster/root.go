package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // runtime failure: plugin refused, listen failed, ...
	exitUsage   = 2 // bad command line or configuration
)

// exitError carries the exit code for an error returned by a command. An
// error without one is a usage error if cobra raised it before the command
// ran (unknown command or flag, wrong arguments), else a runtime failure.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error   { return &exitError{exitUsage, err} }
func runtimeError(err error) error { return &exitError{exitFailure, err} }

// run is the whole program; main only exits with its result.
func run(args []string, stdout, stderr io.Writer) int {
	v := viper.New()
	root := newRootCmd(v, stdout, stderr)
	// Runs once arguments and flags have been accepted. (A subcommand with
	// its own PersistentPreRun would shadow this one: don't add one.)
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	code, hint := exitFailure, false
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case !started:
		code, hint = exitUsage, true
	}
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintf(stderr, "wasmcluster: %s\n", line)
	}
	if hint {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

func newRootCmd(v *viper.Viper, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "wasmcluster",
		Short: "Serve an HTTP handler compiled to WebAssembly (http-wasm handler ABI)",
		Long: `wasmcluster serves an HTTP handler compiled to WebAssembly, written for the
http-wasm handler ABI (Go, TinyGo, Rust, AssemblyScript, WAT), with a sandbox
around every request.

Configuration: flags > WASMCLUSTER_* environment > config file (--config or
WASMCLUSTER_CONFIG) > defaults. Every flag has a config key: --plugin-pool-size
is [plugin] pool_size and WASMCLUSTER_PLUGIN_POOL_SIZE.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().String("config", "", "TOML config file (default: $WASMCLUSTER_CONFIG, else none)")

	root.AddCommand(
		newServeCmd(v, stderr),
		newConfigCmd(v, stdout),
		newVersionCmd(stdout),
		newBuildCmd(),            // build.go, owned by the guest SDK
		newNewCmd(),              // new.go: scaffold a plugin
		newStatusCmd(stdout),     // status.go, owned by workers
		newWorkerCmd(stderr),     // workercmd.go, owned by workers (hidden)
		newStartupCmd(stdout),    // startup.go: systemd units
		newReloadCmd(stdout),     // reload.go: roll through the control socket
		newTopCmd(stdout),        // top.go: live view of the workers
		newInspectCmd(v, stdout), // inspect.go: imports, exports and grants of a plugin
		newPublishCmd(v, stdout), // publish.go: a version for every instance of a nats:// source
		newFleetCmd(v, stdout),   // fleetcmd.go: who runs what
	)
	return root
}

// loadConfig reads the effective configuration for cmd. Every error is a
// configuration error (exit code 2).
func loadConfig(v *viper.Viper, cmd *cobra.Command) (config.Config, error) {
	file, _ := cmd.Flags().GetString("config")
	if file == "" {
		file = os.Getenv(config.EnvPrefix + "_CONFIG")
	}
	cfg, err := config.Load(v, cmd.Flags(), file)
	if err != nil {
		return config.Config{}, usageError(err)
	}
	return cfg, nil
}

func newServeCmd(v *viper.Viper, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve PLUGIN.wasm|DIR|nats://HOST:PORT/BUCKET/NAME",
		Short: "Serve a plugin over HTTP",
		Long: `Serve a plugin over HTTP. The plugin is a WebAssembly module exporting
handle_request and handle_response (http-wasm handler ABI), or a plugin's
source directory in any language "wasmcluster build" knows, which is built
first and then rebuilt on every save of its sources (the dev loop: a failed
build is logged and shown in status, and the running version keeps serving;
reload rebuilds too). When the plugin calls next, the request goes to
--upstream if set, else to a built-in 404.

One worker process per usable CPU serves (--workers; 0 serves in this
process). SIGINT or SIGTERM stops gracefully: the listener closes, in-flight
requests get up to drain_timeout to finish. A second signal exits at once;
SIGQUIT stops fast. The plugin file is watched (plugin.watch): each new content
is checked first (preflight; a refused one never takes traffic, see status),
then the workers are replaced one at a time without dropping a request.
SIGHUP and "wasmcluster reload [--wait]" do the same on demand;
SIGTTIN/SIGTTOU add/remove a worker.
"wasmcluster status" shows the workers.

A nats://HOST:PORT[,HOST:PORT…]/BUCKET/NAME source serves the object NAME of
the NATS JetStream object store BUCKET and rolls to every version
"wasmcluster publish" puts there (see "wasmcluster fleet").`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("serve takes exactly one plugin (a .wasm file or a source directory), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(v, cmd)
			if err != nil {
				return err
			}
			logw, closeLog, err := logOutput(cfg, stderr) // logfile.go: log.file, SIGUSR1 reopens
			if err != nil {
				return err
			}
			defer closeLog()
			log := newLogger(logw, cfg)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				// After the first signal, restore the default action so a
				// second one ends the process at once.
				<-ctx.Done()
				stop()
			}()
			return runServe(ctx, args[0], cfg, log) // serve.go
		},
	}
	config.AddFlags(cmd.Flags())
	cmd.Flags().SortFlags = false
	return cmd
}

func newConfigCmd(v *viper.Viper, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration as TOML",
		Long: `Print the configuration serve would use, after applying defaults, the config
file, WASMCLUSTER_* environment variables and flags, as a TOML file that can be
passed back with --config. Exits 2 if the configuration is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(v, cmd)
			if err != nil {
				return err
			}
			_, err = io.WriteString(stdout, cfg.TOML())
			return runtimeErrorOrNil(err)
		},
	}
	config.AddFlags(cmd.Flags())
	cmd.Flags().SortFlags = false
	return cmd
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and build information",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(stdout, versionString())
			return runtimeErrorOrNil(err)
		},
	}
}

func runtimeErrorOrNil(err error) error {
	if err == nil {
		return nil
	}
	return runtimeError(err)
}
