package embedded_test

import (
	"log/slog"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

func slogTo(b *testkit.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug - 8}))
}
