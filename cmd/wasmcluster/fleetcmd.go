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
a worker ready; it exits 1 after --timeout, or once every instance that does
not run it refused it or went back from it (a crash loop after its roll).
STATE says whether an instance waits for a roll slot (publish
--max-unavailable), rolls under one, or runs a version still watched for a
crash loop (plugin.stable_after); LAST REVERTED is the last version it went
back from.`,
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
				if err := waitFleet(cmd.Context(), conn, wait, timeout, time.Time{}, false); err != nil {
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

// waitFleet polls the fleet view until every instance runs version (with
// stable, past its crash-loop watch), or every one that does not refused
// it or went back from it (from since on: fleet.Judge). Those fail it,
// naming each; the others are not held back.
func waitFleet(ctx context.Context, conn *fleet.Conn, version string, timeout time.Duration, since time.Time, stable bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last fleet.Progress
	for {
		if reps, err := conn.Fleet(ctx); err == nil {
			last = fleet.Judge(reps, version, since)
			if last.Done(stable) {
				if err := last.Err(version, stable); err != nil {
					return fmt.Errorf("%s: %w", conn.Src, err)
				}
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: after %s, %w", conn.Src, timeout, last.Err(version, stable))
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
	fmt.Fprintln(tw, "HOST\tPID\tLISTEN\tVERSION\tSTATE\tREADY\tREQ/S\tLAST ROLL\tLAST REFUSED\tLAST REVERTED")
	for _, r := range reps {
		roll := r.LastRoll
		if roll == "" {
			roll = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d/%d\t%.1f\t%s\t%s\t%s\n", r.Host, r.PID, r.Listen, digest.Short(r.Version), slotState(r),
			r.WorkersReady, r.Workers, r.RequestRate, roll, failure(r.LastRefused), failure(r.LastReverted))
	}
	if len(reps) == 0 {
		fmt.Fprintln(tw, "(no live instance)")
	}
	return tw.Flush()
}

// slotState is the STATE column: where the instance is in a roll.
func slotState(r fleet.Report) string {
	switch {
	case r.Holding != "":
		return "rolling to " + digest.Short(r.Holding)
	case r.Waiting != "":
		return "waiting for a roll slot to " + digest.Short(r.Waiting)
	case r.Settling:
		return "watched for a crash loop"
	}
	return "-"
}

// failure is a LAST REFUSED or LAST REVERTED cell.
func failure(f *fleet.Refusal) string {
	if f == nil {
		return "-"
	}
	return digest.Short(f.Version) + ": " + f.Error
}
