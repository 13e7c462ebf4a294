package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/internal/digest"
)

func newFleetCmd(v *viper.Viper, stdout io.Writer) *cobra.Command {
	var (
		asJSON  bool
		wait    string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "fleet nats://HOST:PORT/BUCKET/NAME [--json] [--wait VERSION [--timeout D]]",
		Short: "Show every live instance serving a nats:// source and the version it runs",
		Long: `Show every live instance serving a nats:// source: host, pid, listen address,
the version its workers run, its last roll and last refused version (with the
check's error), workers ready and requests per second. Instances report every
2s; one silent for 10s has dropped out. --wait VERSION (its SHA-256, or a
prefix of 7 hex digits or more) waits until every live instance runs it with
a worker ready, and exits 1 after --timeout.`,
		Example: `  wasmcluster fleet nats://nats.internal:4222/plugins/site
  wasmcluster fleet nats://nats.internal:4222/plugins/site --wait "$(wasmcluster publish site.wasm nats://nats.internal:4222/plugins/site)"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(v, cmd)
			if err != nil {
				return err
			}
			conn, err := dialFleet(args[0], cfg) // fleetserve.go
			if err != nil {
				return err
			}
			defer conn.Close()
			if !conn.WaitConnected(cmd.Context(), fleetStartWait) {
				return runtimeError(fmt.Errorf("%s: NATS unreachable", conn.Src))
			}
			if wait != "" {
				if err := waitFleet(cmd.Context(), conn, wait, timeout); err != nil {
					return runtimeError(err)
				}
			}
			reps, err := conn.Fleet(cmd.Context())
			if err != nil {
				return runtimeError(err)
			}
			return printFleet(stdout, reps, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the instances as JSON")
	cmd.Flags().StringVar(&wait, "wait", "", "wait until every live instance runs this version")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long --wait waits")
	config.AddFlags(cmd.Flags()) // kv.* credentials, as serve takes them
	cmd.Flags().SortFlags = false
	return cmd
}

// waitFleet polls the fleet view until every instance runs version.
func waitFleet(ctx context.Context, conn *fleet.Conn, version string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last []fleet.Report
	for {
		if reps, err := conn.Fleet(ctx); err == nil {
			last = reps
			if fleet.Runs(reps, version) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			behind := 0
			for _, r := range last {
				if !fleet.Runs([]fleet.Report{r}, version) {
					behind++
				}
			}
			return fmt.Errorf("%s: after %s, %d of %d live instances do not run %s", conn.Src, timeout, behind, len(last), version)
		case <-tick.C:
		}
	}
}

func printFleet(w io.Writer, reps []fleet.Report, asJSON bool) error {
	if asJSON {
		if reps == nil {
			reps = []fleet.Report{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(reps)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tPID\tLISTEN\tVERSION\tREADY\tREQ/S\tLAST ROLL\tLAST REFUSED")
	for _, r := range reps {
		refused := "-"
		if r.LastRefused != nil {
			refused = digest.Short(r.LastRefused.Version) + ": " + r.LastRefused.Error
		}
		roll := r.LastRoll
		if roll == "" {
			roll = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d/%d\t%.1f\t%s\t%s\n", r.Host, r.PID, r.Listen, digest.Short(r.Version),
			r.WorkersReady, r.Workers, r.RequestRate, roll, refused)
	}
	if len(reps) == 0 {
		fmt.Fprintln(tw, "(no live instance)")
	}
	return tw.Flush()
}
