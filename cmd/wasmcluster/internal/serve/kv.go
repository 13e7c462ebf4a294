package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/embedded"
	"github.com/wasmcluster/wasmcluster/kv/kvopen"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// The shared store of one Run. The primary opens its own store (the
// preflight's self-test and --workers 0 use it, and its health is what
// status and /readyz report); with the embedded backend it first starts
// the NATS server in this process. Each worker process opens its own store
// from the configuration the primary puts in its environment
// (workerKVEnv): the embedded server's loopback URL and the token
// generated at this start, which are never logged nor shown by
// `wasmcluster config`.

// workerKVEnv carries a worker's kv.Config (JSON) from the primary. The
// worker reads it once and removes it from its environment, so nothing it
// starts inherits the token.
const workerKVEnv = "WASMCLUSTER_WORKER_KV"

// kvHealthEvery is how often the primary checks the store.
const kvHealthEvery = 2 * time.Second

// kvRuntime is the primary's side of the store.
type kvRuntime struct {
	log    *slog.Logger
	srv    *embedded.Server // embedded backend only
	store  kv.Store
	worker []byte // the workers' kv.Config as JSON

	mu     sync.Mutex
	health control.KVStatus

	stop chan struct{}
	done chan struct{}
}

// startKV starts the store cfg names; nil (and no error) when it is off.
// An embedded store whose directory cannot be used is an error naming
// kv.dir; an external store that does not answer is not (it is reported
// unhealthy until it does).
func startKV(ctx context.Context, cfg *kv.Config, inProcess bool, log *slog.Logger) (*kvRuntime, error) {
	if cfg == nil || cfg.Scheme() == kv.URLOff {
		return nil, nil
	}
	c := cfg.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r := &kvRuntime{log: log, stop: make(chan struct{}), done: make(chan struct{})}
	own, workerCfg := c, c
	if c.Scheme() == kv.URLEmbedded {
		srv, err := embedded.Start(ctx, embedded.Options{Dir: c.Dir, Logger: log, MaxValue: c.MaxValue, NoListen: inProcess})
		if err != nil {
			return nil, fmt.Errorf("kv store: %w (give this instance a writable kv.dir of its own with --kv-dir, or share a store with kv.url)", err)
		}
		r.srv = srv
		own, workerCfg = srv.InProcessConfig(c), srv.WorkerConfig(c)
	} else {
		log.Info("kv store: external", "backend", c.Scheme(), "url", kv.RedactURL(c.URL), "bucket", c.Bucket)
	}
	store, err := kvopen.Open(ctx, own)
	if err != nil {
		r.shutdownServer()
		return nil, fmt.Errorf("kv store: %w", err)
	}
	r.store = store
	if !inProcess {
		if r.worker, err = json.Marshal(workerCfg); err != nil {
			r.close()
			return nil, fmt.Errorf("kv store: encode worker config: %w", err)
		}
	}
	r.health = control.KVStatus{Backend: store.Backend(), Healthy: true}
	if r.srv != nil {
		r.health.Dir = r.srv.Dir()
	}
	r.check(ctx)
	go r.monitor()
	return r, nil
}

// KV is the primary's store for host.Config.KV; nil when off.
func (r *kvRuntime) KV() host.KV {
	if r == nil {
		return nil
	}
	return r.store
}

// WorkerEnv is what a worker needs to open its store; nil when off.
func (r *kvRuntime) WorkerEnv() []string {
	if r == nil || r.worker == nil {
		return nil
	}
	return []string{workerKVEnv + "=" + string(r.worker)}
}

// Status is workers.PrimaryOptions.KVStatus; nil when off.
func (r *kvRuntime) Status() func() *control.KVStatus {
	if r == nil {
		return nil
	}
	return func() *control.KVStatus {
		r.mu.Lock()
		defer r.mu.Unlock()
		st := r.health
		return &st
	}
}

// monitor checks the store's health until close, logging each change.
func (r *kvRuntime) monitor() {
	defer close(r.done)
	t := time.NewTicker(kvHealthEvery)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.check(context.Background())
		}
	}
}

func (r *kvRuntime) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, kvHealthEvery)
	err := r.store.Health(ctx)
	cancel()
	r.mu.Lock()
	was := r.health.Healthy
	r.health.Healthy, r.health.Error = err == nil, ""
	if err != nil {
		r.health.Error = err.Error()
	}
	r.health.Checked = time.Now().UTC().Format(time.RFC3339)
	r.mu.Unlock()
	switch {
	case was && err != nil:
		r.log.Warn("kv store unavailable: plugins see errors and /readyz answers 503 until it recovers", "backend", r.store.Backend(), "err", err)
	case !was && err == nil:
		r.log.Info("kv store available again", "backend", r.store.Backend())
	}
}

func (r *kvRuntime) close() {
	if r == nil {
		return
	}
	close(r.stop)
	<-r.done
	r.store.Close()
	r.shutdownServer()
}

func (r *kvRuntime) shutdownServer() {
	if r.srv != nil {
		r.srv.Shutdown()
	}
}

// workerKV opens a worker's store from the environment the primary set,
// once per process; nil when the primary runs none.
var workerKV = sync.OnceValues(func() (host.KV, error) {
	raw, ok := os.LookupEnv(workerKVEnv)
	os.Unsetenv(workerKVEnv)
	if !ok {
		return nil, nil
	}
	var cfg kv.Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return nil, fmt.Errorf("worker kv config: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := kvopen.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("kv store: %w", err)
	}
	return store, nil
})
