package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wasmcluster/wasmcluster/workers/control"
)

// addControlFlag is the --control flag of status, top and reload.
func addControlFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "control", "", "control socket of the instance (default: the only running one, else "+control.DefaultPath()+")")
}

// controlSocket is the control socket status, top and reload talk to (see
// pickControl); it asks which instance only when stdin and stdout are
// terminals.
func controlSocket(cmd *cobra.Command, given string, stdout io.Writer) (string, error) {
	interactive := isTerminal(cmd.InOrStdin()) && isTerminal(stdout)
	return pickControl(cmd.Context(), given, cmd.InOrStdin(), stdout, interactive)
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// pickControl resolves the control socket: the given path when set; else that
// of the only running instance; with none running, the default path (so
// the command fails with "no wasmcluster instance is running"). With
// several it lists them and, when interactive, asks for one on out and
// reads the answer from in; otherwise it fails with a usage error that
// lists them and says to pick one with --control.
func pickControl(ctx context.Context, given string, in io.Reader, out io.Writer, interactive bool) (string, error) {
	if given != "" {
		return given, nil
	}
	socks := control.FindSockets()
	switch len(socks) {
	case 0:
		return control.DefaultPath(), nil
	case 1:
		return socks[0], nil
	}
	descs := describeInstances(ctx, socks)
	if !interactive {
		return "", usageError(fmt.Errorf("%d wasmcluster instances are running; pick one with --control:\n  %s",
			len(socks), strings.Join(descs, "\n  ")))
	}
	fmt.Fprintf(out, "%d wasmcluster instances are running:\n", len(socks))
	for i, d := range descs {
		fmt.Fprintf(out, "  %d) %s\n", i+1, d)
	}
	r := bufio.NewReader(in)
	for {
		fmt.Fprintf(out, "Which one (1-%d)? ", len(socks))
		line, err := r.ReadString('\n')
		if n, aerr := strconv.Atoi(strings.TrimSpace(line)); aerr == nil && n >= 1 && n <= len(socks) {
			return socks[n-1], nil
		}
		if err != nil {
			fmt.Fprintln(out)
			return "", usageError(errors.New("no instance picked; pick one with --control"))
		}
		fmt.Fprintf(out, "Answer a number from 1 to %d.\n", len(socks))
	}
}

// describeInstances says, for each control socket, which instance answers
// there, so a user can tell them apart: its pid, address and plugin.
func describeInstances(ctx context.Context, socks []string) []string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	descs := make([]string, len(socks))
	for i, s := range socks {
		descs[i] = s
		st, err := control.QueryStatus(ctx, s)
		if err != nil {
			continue
		}
		descs[i] += fmt.Sprintf(": pid %d on %s", st.PID, st.Listen)
		if st.Plugin != nil {
			descs[i] += ", plugin " + st.Plugin.Path
		}
	}
	return descs
}
