package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wasmcluster/wasmcluster/workers/control"
)

// newTopCmd is `wasmcluster top`, like `pm2 monit`: a live view of the
// running instance's workers, redrawn in place from the control socket's
// status (no admin listener needed). q or Ctrl-C quits.
func newTopCmd(stdout io.Writer) *cobra.Command {
	var controlPath string
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Live view of the running instance's workers (q or Ctrl-C quits)",
		Long: `Show the running instance's workers, refreshed in place: requests per second,
99th percentile latency over the last interval, requests in flight, resident
memory, restarts and plugin version per worker. Press q or Ctrl-C to quit.
With several instances running, --control picks one (in a terminal, top asks).
Exits 1 when no instance is running.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if interval < 100*time.Millisecond {
				return usageError(fmt.Errorf("--interval %s: must be at least 100ms", interval))
			}
			path, err := controlSocket(cmd, controlPath, stdout) // control.go
			if err != nil {
				return err
			}
			return runtimeErrorOrNil(runTop(cmd.Context(), path, interval, stdout))
		},
	}
	addControlFlag(cmd, &controlPath)
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "refresh interval")
	return cmd
}

// runTop draws until q, Ctrl-C, SIGINT/SIGTERM, or the instance going away.
func runTop(ctx context.Context, path string, interval time.Duration, out io.Writer) error {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	st, err := control.QueryStatus(qctx, path)
	cancel()
	if err != nil {
		return err
	}
	quit := make(chan struct{}, 1)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	nl := "\n"
	fd := int(os.Stdin.Fd())
	if term.IsTerminal(fd) {
		// Raw mode: single keys without Enter; Ctrl-C arrives as a byte.
		old, err := term.MakeRaw(fd)
		if err != nil {
			return fmt.Errorf("terminal raw mode: %w", err)
		}
		defer term.Restore(fd, old)
		nl = "\r\n"
		go readKeys(os.Stdin, quit)
	}
	fmt.Fprint(out, "\x1b[?1049h\x1b[?25l") // alternate screen, hide cursor
	defer fmt.Fprint(out, "\x1b[?25h\x1b[?1049l")

	t := &topView{prev: map[int]control.WorkerStatus{}, nl: nl}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		fmt.Fprint(out, t.frame(st, time.Now()))
		select {
		case <-quit:
			return nil
		case <-sigs:
			return nil
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		next, err := control.QueryStatus(qctx, path)
		cancel()
		if err != nil {
			fmt.Fprint(out, "\x1b[?25h\x1b[?1049l")
			return fmt.Errorf("instance went away: %w", err)
		}
		st = next
	}
}

// readKeys signals quit on q, Q, Ctrl-C or Ctrl-D (EOF too).
func readKeys(r io.Reader, quit chan<- struct{}) {
	b := make([]byte, 16)
	for {
		n, err := r.Read(b)
		for _, c := range b[:n] {
			if c == 'q' || c == 'Q' || c == 3 || c == 4 {
				quit <- struct{}{}
				return
			}
		}
		if err != nil {
			quit <- struct{}{}
			return
		}
	}
}

// topView turns successive status snapshots into frames; rates and p99
// come from the difference between two snapshots of the same process.
type topView struct {
	prev     map[int]control.WorkerStatus // by PID
	prevTime time.Time
	nl       string
}

func (v *topView) frame(st *control.Status, now time.Time) string {
	dt := now.Sub(v.prevTime).Seconds()
	var b strings.Builder
	line := func(format string, args ...any) {
		b.WriteString(fmt.Sprintf(format, args...))
		b.WriteString("\x1b[K" + v.nl) // clear the rest of the line
	}
	b.WriteString("\x1b[H") // home: redraw in place
	var total float64
	rows := make([][]string, 0, len(st.Workers))
	for _, w := range st.Workers {
		rate, p99 := "-", "-"
		if p, ok := v.prev[w.PID]; ok && w.PID != 0 && dt > 0 {
			r := float64(w.Requests-p.Requests) / dt
			total += r
			rate = strconv.FormatFloat(r, 'f', 1, 64)
			p99 = quantileDelta(p.LatencyBuckets, w.LatencyBuckets, 0.99)
		}
		pid, up, ver := "-", "-", shortHash(w.Version)
		if w.PID != 0 {
			pid, up = strconv.Itoa(w.PID), fmtSeconds(w.UptimeSeconds)
		}
		rows = append(rows, []string{strconv.Itoa(w.ID), pid, w.State, rate, p99,
			strconv.FormatInt(w.InFlight, 10), fmtBytes(w.RSSBytes), strconv.Itoa(w.Restarts), up, ver})
	}
	line("wasmcluster top — pid %d on %s, up %s, %d workers, version %s, %.1f req/s",
		st.PID, st.Listen, fmtSeconds(st.UptimeSeconds), st.Desired, shortHash(st.Version), total)
	if st.LastRoll != "" {
		line("last roll: %s", st.LastRoll)
	} else {
		line("")
	}
	line("")
	hdr := []string{"ID", "PID", "STATE", "REQ/S", "P99", "IN FLIGHT", "RSS", "RESTARTS", "UPTIME", "VERSION"}
	widths := make([]int, len(hdr))
	for i, h := range hdr {
		widths[i] = len(h)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, r := range append([][]string{hdr}, rows...) {
		var sb strings.Builder
		for i, c := range r {
			fmt.Fprintf(&sb, "%-*s  ", widths[i], c)
		}
		line("%s", strings.TrimRight(sb.String(), " "))
	}
	line("")
	line("q or Ctrl-C to quit")
	b.WriteString("\x1b[J") // clear below: workers that went away
	v.prev = map[int]control.WorkerStatus{}
	for _, w := range st.Workers {
		v.prev[w.PID] = w
	}
	v.prevTime = now
	return b.String()
}

// quantileDelta is the q-quantile of the requests between two cumulative
// bucket snapshots, as the upper bound of the bucket it falls in ("-"
// without requests).
func quantileDelta(before, after []uint64, q float64) string {
	var d []uint64
	var n uint64
	for i, a := range after {
		var b uint64
		if i < len(before) {
			b = before[i]
		}
		d = append(d, a-b)
		n += a - b
	}
	if n == 0 {
		return "-"
	}
	rank := uint64(q*float64(n) + 0.999999)
	var seen uint64
	for i, c := range d {
		seen += c
		if seen >= rank {
			if i >= len(control.LatencyBounds) {
				return ">" + fmtLatency(control.LatencyBounds[len(control.LatencyBounds)-1])
			}
			return "<=" + fmtLatency(control.LatencyBounds[i])
		}
	}
	return "-"
}

func fmtLatency(s float64) string {
	return time.Duration(s * float64(time.Second)).String()
}
