package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmcluster/wasmcluster/internal/digest"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// newStatusCmd is `wasmcluster status [--json] [--control PATH]`, like
// `pm2 ls`. With no instance running it says so and exits 1.
func newStatusCmd(stdout io.Writer) *cobra.Command {
	var asJSON bool
	var controlPath string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the running instance's workers",
		Long: `Show the running wasmcluster instance and its workers: id, pid, state, plugin
version, uptime, requests served, requests in flight, resident memory,
restarts and the last exit reason. The instance is found through its control
socket: --control, else the only instance running; with several, status
asks which one when run in a terminal, and otherwise fails listing them.
Exits 1 when no instance is running.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := controlSocket(cmd, controlPath, stdout) // control.go
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			st, err := control.QueryStatus(ctx, path)
			if err != nil {
				return runtimeError(err)
			}
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return runtimeErrorOrNil(enc.Encode(st))
			}
			return runtimeErrorOrNil(printStatus(stdout, st))
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	addControlFlag(cmd, &controlPath)
	return cmd
}

func printStatus(w io.Writer, st *control.Status) error {
	mode := fmt.Sprintf("%d workers", st.Desired)
	if st.InProcess {
		mode = "in-process"
	}
	fmt.Fprintf(w, "wasmcluster pid %d on %s, up %s, %s, version %s", st.PID, st.Listen,
		fmtSeconds(st.UptimeSeconds), mode, shortHash(st.Version))
	if st.Stopping {
		fmt.Fprint(w, " (stopping)")
	}
	fmt.Fprintln(w)
	printRoll(w, st)  // reload.go: roll outcome, plugin refusals
	printTLS(w, st)   // tls.go: serving certificates, last refusal
	printKV(w, st.KV) // kv.go
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPID\tSTATE\tVERSION\tUPTIME\tREQUESTS\tIN FLIGHT\tCONNS\tUPGRADED\tRSS\tRESTARTS\tLAST EXIT")
	for _, x := range st.Workers {
		pid, up := "-", "-"
		if x.PID != 0 {
			pid, up = strconv.Itoa(x.PID), fmtSeconds(x.UptimeSeconds)
		}
		last := x.LastExit
		if last == "" {
			last = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%d\t%s\n", x.ID, pid, x.State, shortHash(x.Version),
			up, x.Requests, x.InFlight, x.Conns, x.Upgraded, fmtBytes(x.RSSBytes), x.Restarts, last)
	}
	return tw.Flush()
}

// shortHash shows a version in status and reload output: a content hash
// shortened (digest.ShortOrDash, "-" for none), while a name that is not
// hex, one an embedder gave its workers, stays whole.
func shortHash(h string) string {
	if strings.Trim(h, "0123456789abcdef") != "" {
		return h
	}
	return digest.ShortOrDash(h)
}

func fmtSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func fmtBytes(n int64) string {
	if n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
}
