package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
)

// reopenFile is an append-only log file that SIGUSR1 reopens, so logrotate
// can move it away and have a new one created (the nginx convention).
// Writes are serialized: each slog record and relayed worker line is one
// Write, so lines never interleave.
type reopenFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func openReopenFile(path string) (*reopenFile, error) {
	r := &reopenFile{path: path}
	if err := r.reopen(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reopenFile) reopen() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	r.mu.Lock()
	old := r.f
	r.f = f
	r.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (r *reopenFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Write(p)
}

func (r *reopenFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}

// logOutput is where serve logs: log.file (reopened on SIGUSR1) or stderr.
// SIGUSR1 is caught either way: its default action would kill the primary.
// The returned func stops the signal handling and closes the file.
func logOutput(cfg config.Config, stderr io.Writer) (io.Writer, func(), error) {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	done := make(chan struct{})
	var w io.Writer = stderr
	var rf *reopenFile
	if cfg.Log.File != "" {
		var err error
		if rf, err = openReopenFile(cfg.Log.File); err != nil {
			signal.Stop(usr1)
			return nil, nil, usageError(&config.FieldError{Key: "log.file", Value: cfg.Log.File, Msg: err.Error()})
		}
		w = rf
	}
	go func() {
		for {
			select {
			case <-done:
				return
			case <-usr1:
				if rf == nil {
					continue
				}
				if err := rf.reopen(); err != nil {
					fmt.Fprintf(stderr, "wasmcluster: SIGUSR1: %v (still writing to the old file)\n", err)
				}
			}
		}
	}()
	return w, func() {
		signal.Stop(usr1)
		close(done)
		if rf != nil {
			rf.Close()
		}
	}, nil
}
