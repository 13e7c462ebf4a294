package main

import (
	"errors"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/serve"
	"github.com/wasmcluster/wasmcluster/workers"
)

// newWorkerCmd is the hidden subcommand serve re-executes once per worker.
// Run by hand it says what it is and exits 2.
func newWorkerCmd(stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:    "worker",
		Short:  "Internal: a worker process started by serve",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// JSON lines on stderr: the primary re-logs each one, filtered at
			// its own level, tagged with this worker's id and pid.
			level := new(slog.LevelVar) // set to the primary's level by RunWorker
			level.Set(slog.LevelDebug)
			log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
			slog.SetDefault(log)
			err := serve.RunWorker(cmd.Context(), log, level)
			if errors.Is(err, workers.ErrNotWorker) {
				return usageError(err)
			}
			return runtimeErrorOrNil(err)
		},
	}
}
