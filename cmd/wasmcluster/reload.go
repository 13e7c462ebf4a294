package main

// `wasmcluster reload` asks the running instance for a roll through its
// control socket; the roll itself is package serve's (internal/serve).

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmcluster/wasmcluster/workers/control"
)

// newReloadCmd is `wasmcluster reload [--wait] [--control PATH]`.
func newReloadCmd(stdout io.Writer) *cobra.Command {
	var wait bool
	var controlPath string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Re-read the plugin and roll the workers to it",
		Long: `Ask the running instance to re-read its plugin file, check it (preflight) and
replace the workers one at a time, as SIGHUP does. A refused plugin fails the
command and the old version keeps serving. With --wait, the command returns
when the roll finished and fails if it did not succeed (a new worker crashed
or never became ready), fit for systemd's ExecReload. With several instances
running, --control picks one (in a terminal, reload asks).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := controlSocket(cmd, controlPath, stdout) // control.go
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			res, err := control.Reload(ctx, path, wait)
			if err != nil {
				return runtimeError(err)
			}
			if res.Roll != nil {
				_, err = fmt.Fprintf(stdout, "rolled to %s: %d workers replaced in %s\n", shortHash(res.Version), res.Roll.Replaced,
					time.Duration(res.Roll.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
			} else {
				_, err = fmt.Fprintf(stdout, "rolling to %s\n", shortHash(res.Version))
			}
			return runtimeErrorOrNil(err)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the roll finished; fail if it did not succeed")
	addControlFlag(cmd, &controlPath)
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "give up waiting after this long")
	return cmd
}

// printRoll is the roll and plugin part of the status text.
func printRoll(w io.Writer, st *control.Status) {
	if st.Target != "" && st.Roll != nil {
		fmt.Fprintf(w, "rolling to %s (from %s, %s, %d replaced so far, %s)\n", shortHash(st.Target), shortHash(st.Roll.From),
			st.Roll.Trigger, st.Roll.Replaced, fmtSeconds(st.Roll.DurationSeconds))
	} else if r := st.Roll; r != nil {
		fmt.Fprintf(w, "last roll: %s to %s (%s, %d replaced in %s, %s ago)", r.Outcome, shortHash(r.Target), r.Trigger, r.Replaced,
			fmtSeconds(r.DurationSeconds), fmtSeconds(time.Since(r.StartedAt).Seconds()))
		if r.Error != "" {
			fmt.Fprintf(w, ": %s", r.Error)
		}
		fmt.Fprintln(w)
	} else if st.LastRoll != "" {
		fmt.Fprintf(w, "last roll: %s\n", st.LastRoll)
	}
	p := st.Plugin
	if p == nil {
		return
	}
	watch := "watched"
	if !p.Watching {
		watch = "not watched"
	}
	fmt.Fprintf(w, "plugin %s (%s): %d accepted, %d refused", p.Path, watch, p.NAccepted, p.NRefused)
	if p.Checking != "" {
		fmt.Fprintf(w, ", checking %s", shortHash(p.Checking))
	}
	fmt.Fprintln(w)
	if r := p.LastRefused; r != nil {
		fmt.Fprintf(w, "last refused: %s (%s ago): %s\n", shortHash(r.Version), fmtSeconds(time.Since(r.At).Seconds()), r.Error)
	}
	printBuild(w, p.Build) // build.go
}
