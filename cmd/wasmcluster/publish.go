package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/embedded"
	"github.com/wasmcluster/wasmcluster/kv/kvopen"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
	"github.com/wasmcluster/wasmcluster/plugins/store"
)

// publishLong is publish's help.
const publishLong = `Publish a plugin to a NATS JetStream object store: every instance serving
the source ("wasmcluster serve nats://…") fetches it, checks it and rolls to it.
A source directory is built first, as serve does. The plugin is checked here
first, as an instance would (compile, exports, _initialize, and a GET of
plugin.preflight_path if set): one that would be refused is not published.
Prints the version published (its SHA-256). --rollback re-publishes the
version before the current one. --canary N rolls N instances first (the
first by ID in "wasmcluster fleet"); the others roll only after each canary
runs it and serves it for --canary-for with no new 5xx answer, refusal or
revert; otherwise the canaries go back and publish exits 1.
--max-unavailable K lets at most K instances roll to the version at once
(after the canaries, with --canary); each instance waits for one of K roll
slots, so the rollout goes on without publish. --wait D waits up to D until
every live instance runs the version: exit 0 when all do; exit 1 when one
refused it (its check) or went back from it (a crash loop after its roll),
naming each and why, once the others are done (they still roll), or when D
passed first. The credentials are the kv.* ones (kv.creds_file,
kv.nkey_file, kv.token_file).`

func newPublishCmd(v *viper.Viper, stdout io.Writer) *cobra.Command {
	var (
		rollback bool
		canary   fleet.CanaryOptions
		roll     rollOptions
	)
	cmd := &cobra.Command{
		Use:   "publish FILE|DIR nats://HOST:PORT/BUCKET/NAME | publish --rollback nats://…",
		Short: "Publish a plugin version to every instance serving a nats:// source",
		Long:  publishLong,
		Example: `  wasmcluster publish ./site.wasm nats://nats.internal:4222/plugins/site
  wasmcluster publish --max-unavailable 1 --wait 5m ./site.wasm nats://nats.internal:4222/plugins/site
  wasmcluster publish --rollback nats://nats.internal:4222/plugins/site`,
		Args: func(cmd *cobra.Command, args []string) error {
			if rollback && len(args) != 1 {
				return fmt.Errorf("publish --rollback takes the source only, got %d arguments", len(args))
			}
			if !rollback && len(args) != 2 {
				return fmt.Errorf("publish takes a plugin (file or source directory) and a nats:// source, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(v, cmd)
			if err != nil {
				return err
			}
			if err := roll.check(); err != nil {
				return err
			}
			canary.MaxUnavailable = roll.maxUnavailable
			if rollback {
				return runRollback(cmd.Context(), stdout, args[0], cfg, roll)
			}
			return runPublish(cmd.Context(), stdout, args[0], args[1], cfg, canary, roll)
		},
	}
	cmd.Flags().BoolVar(&rollback, "rollback", false, "re-publish the version before the current one")
	cmd.Flags().IntVar(&canary.N, "canary", 0, "roll this many instances first; the rest roll once they served it for --canary-for with no new 5xx, refusal or revert")
	cmd.Flags().DurationVar(&canary.For, "canary-for", 30*time.Second, "how long the canaries must serve the new version cleanly")
	cmd.Flags().IntVar(&roll.maxUnavailable, "max-unavailable", 0, "at most this many instances roll to the version at once (0: no bound, each rolls as soon as it sees it)")
	cmd.Flags().DurationVar(&roll.wait, "wait", 0, "wait up to this long until every live instance runs the version; exit 1 naming any that refused or reverted it (0: print the version and return)")
	config.AddFlags(cmd.Flags())
	cmd.Flags().SortFlags = false
	return cmd
}

// rollOptions are publish's rollout flags.
type rollOptions struct {
	maxUnavailable int
	wait           time.Duration
}

func (o rollOptions) check() error {
	if o.maxUnavailable < 0 {
		return usageError(fmt.Errorf("--max-unavailable %d: want 0 (no bound) or more", o.maxUnavailable))
	}
	if o.wait < 0 {
		return usageError(fmt.Errorf("--wait %s: want 0 (no wait) or more", o.wait))
	}
	return nil
}

// waitPublished prints hash, then with --wait waits for the fleet to run
// it past each instance's crash-loop watch (a revert comes within it);
// refusals and reverts from since on count against it.
func waitPublished(ctx context.Context, stdout io.Writer, conn *fleet.Conn, hash string, o rollOptions, since time.Time) error {
	fmt.Fprintln(stdout, hash)
	if o.wait <= 0 {
		return nil
	}
	return runtimeErrorOrNil(waitFleet(ctx, conn, hash, o.wait, since, true)) // fleetcmd.go
}

// runPublish builds, checks and uploads plugin.
func runPublish(ctx context.Context, stdout io.Writer, plugin, source string, cfg config.Config, canary fleet.CanaryOptions, roll rollOptions) error {
	conn, err := dialFleet(source, cfg) // fleetserve.go
	if err != nil {
		return err
	}
	defer conn.Close()
	log := newLogger(os.Stderr, cfg)
	conn.Log = log // a publish's retries go to its log

	src, err := pluginFile(ctx, plugin, cfg, log) // build.go
	if err != nil {
		return err
	}
	data, err := store.ReadFile(src.file)
	if err != nil {
		return usageError(fmt.Errorf("plugin %s: %w", plugin, err))
	}
	hcfg, err := hostConfig(conn.Src.Name, cfg, log) // serve.go
	if err != nil {
		return err
	}
	if hcfg.KV, err = checkKV(ctx, cfg); err != nil {
		return runtimeError(err)
	}
	if c, ok := hcfg.KV.(io.Closer); ok {
		defer c.Close()
	}
	popts := preflight.Options{Host: hcfg, Path: cfg.Plugin.PreflightPath, Timeout: cfg.Plugin.PreflightTimeout}
	if err := preflight.Check(ctx, data, popts); err != nil {
		return runtimeError(fmt.Errorf("not published: plugin %s is refused by the check every instance runs: %w", plugin, err))
	}
	if !conn.WaitConnected(ctx, fleetStartWait) {
		return runtimeError(fmt.Errorf("%s: NATS unreachable", conn.Src))
	}
	var hash string
	since := time.Now()
	if canary.N > 0 {
		hash, err = conn.PublishCanary(ctx, data, canary)
	} else {
		hash, err = conn.PublishWith(ctx, data, fleet.PublishOptions{MaxUnavailable: roll.maxUnavailable})
	}
	if err != nil {
		return runtimeError(err)
	}
	return waitPublished(ctx, stdout, conn, hash, roll, since)
}

// runRollback re-publishes the previous version.
func runRollback(ctx context.Context, stdout io.Writer, source string, cfg config.Config, roll rollOptions) error {
	conn, err := dialFleet(source, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.Log = newLogger(os.Stderr, cfg) // a rollback's retries
	if !conn.WaitConnected(ctx, fleetStartWait) {
		return runtimeError(fmt.Errorf("%s: NATS unreachable", conn.Src))
	}
	since := time.Now()
	hash, err := conn.RollbackWith(ctx, fleet.PublishOptions{MaxUnavailable: roll.maxUnavailable})
	if err != nil {
		return runtimeError(err)
	}
	return waitPublished(ctx, stdout, conn, hash, roll, since)
}

// checkKV is the store of publish's check. An instance with a store (kv.url
// not off) accepts a plugin that imports kv_* functions; one without
// refuses it, and so does the check. The check gets a real store of its
// own, an embedded one in a temporary directory, so a self-test request
// writes nowhere that matters.
func checkKV(ctx context.Context, cfg config.Config) (host.KV, error) {
	if cfg.KV.KVScheme() == config.KVOff {
		return nil, nil
	}
	dir, err := os.MkdirTemp("", "wasmcluster-publish-kv-")
	if err != nil {
		return nil, err
	}
	srv, err := embedded.Start(ctx, embedded.Options{Dir: dir, NoListen: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("check's kv store: %w", err)
	}
	c := (&kv.Config{Dir: dir}).WithDefaults()
	st, err := kvopen.Open(ctx, srv.InProcessConfig(c))
	if err != nil {
		srv.Shutdown()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("check's kv store: %w", err)
	}
	return &checkStore{Store: st, stop: func() { srv.Shutdown(); os.RemoveAll(dir) }}, nil
}

// checkStore is the check's store, which takes its server and directory
// with it on Close.
type checkStore struct {
	kv.Store
	stop func()
}

func (s *checkStore) Close() error {
	err := s.Store.Close()
	s.stop()
	return err
}
