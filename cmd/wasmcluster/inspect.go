package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/plugins/inspect"
)

// newInspectCmd is `wasmcluster inspect PLUGIN [--json]`: what a plugin
// will try to do, read from its imports, and what the configuration
// (the same flags, file and environment as serve) grants it.
func newInspectCmd(v *viper.Viper, stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect PLUGIN.wasm|GO_PACKAGE_DIR",
		Short: "Show what a plugin imports and exports, and which of its capabilities are granted",
		Long: `Show what a plugin imports (http_handler functions, wasmcluster extension
functions by capability, WASI, env), what it exports, its size and memory
limits, and for each capability (kv, outbound, env, files) whether the
configuration grants it — the one serve would use with the same flags, config
file and WASMCLUSTER_* environment. The plugin is compiled, never run. A Go
package directory is built first, as serve does. Environment values are never
shown, only the names granted.`,
		Example: `  wasmcluster inspect plugin.wasm --plugin-env SITE_NAME --plugin-mounts ./templates:/templates
  wasmcluster inspect ./examples/templates --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("inspect takes exactly one plugin (a .wasm file or a Go package directory), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(v, cmd)
			if err != nil {
				return err
			}
			return runInspect(cmd, args[0], cfg, asJSON, stdout)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	config.AddFlags(cmd.Flags())
	cmd.Flags().SortFlags = false
	return cmd
}

func runInspect(cmd *cobra.Command, path string, cfg config.Config, asJSON bool, stdout io.Writer) error {
	src, err := pluginFile(cmd.Context(), path, cfg, slog.New(slog.DiscardHandler)) // build.go
	if err != nil {
		return err
	}
	wasm, err := os.ReadFile(src.file)
	if err != nil {
		return runtimeError(fmt.Errorf("inspect: %w", err))
	}
	rep, err := inspect.Analyze(cmd.Context(), wasm, inspectGrants(cfg))
	if err != nil { // inspect.ErrNotWasm among others
		return runtimeError(fmt.Errorf("inspect %s: %w", path, err))
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return runtimeErrorOrNil(enc.Encode(rep))
	}
	return runtimeErrorOrNil(rep.WriteText(stdout, path))
}

// inspectGrants is the configuration's grants as inspect sees them.
func inspectGrants(cfg config.Config) inspect.Grants {
	return inspect.Grants{
		HasKV:            true,
		KVURL:            cfg.KV.URL,
		HasOutbound:      true,
		OutboundAllow:    cfg.Outbound.Allow,
		Env:              cfg.EnvNames(),
		Mounts:           cfg.Plugin.Mounts,
		MemoryLimitPages: cfg.Plugin.MemoryLimitPages,
	}
}
