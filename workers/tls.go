package workers

// TLS termination with certificates replaced while serving. The primary
// reads and checks the pairs (tlscert.Read), watches their files, and
// sends the accepted PEM bytes to every worker: in the hello, and in a
// msgTLS message whenever the files change or a reload (SIGHUP, the
// control socket) finds new content. A worker parses them into its
// tlscert.Store, whose GetCertificate the next handshake consults, so no
// worker restarts and no connection is cut. In-process, the watcher sets
// the server's store directly.

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/control"
	"github.com/wasmcluster/wasmcluster/workers/tlscert"
)

// serverTLS is the serving certificates of a primary (or in-process
// server): the set accepted last, its watcher and what status shows.
type serverTLS struct {
	log     *slog.Logger
	watcher *tlscert.Watcher
	store   *tlscert.Store // the primary's own handshakes (503s; in-process: all)
	apply   func([]tlscert.PEM)
	tickets *ticketKeys // session ticket keys shared by the workers (tls_tickets.go)

	mu       sync.Mutex
	pems     []tlscert.PEM
	loadedAt time.Time
	refused  *control.Refusal
}

// newServerTLS reads and checks pairs; nil without pairs. apply (may be
// nil) is called with every new set after it became the serving one.
func newServerTLS(pairs []tlscert.Pair, log *slog.Logger) (*serverTLS, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	pems, err := tlscert.Read(pairs)
	if err != nil {
		return nil, err
	}
	store, err := tlscert.NewStore(pems)
	if err != nil {
		return nil, err
	}
	t := &serverTLS{log: log, store: store, pems: pems, loadedAt: time.Now(), tickets: newTicketKeys()}
	t.watcher = tlscert.NewWatcher(pairs, pems, tlscert.WatchOptions{OnChange: t.changed, OnRefuse: t.refuse, Logger: log})
	log.Info("TLS certificates loaded", "certificates", tlscert.Describe(pems))
	return t, nil
}

// current is the serving set (what a new worker's hello carries).
func (t *serverTLS) current() []tlscert.PEM {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pems
}

func (t *serverTLS) changed(pems []tlscert.PEM) {
	if err := t.store.Set(pems); err != nil { // Read checked them: not expected
		t.refuse(err)
		return
	}
	t.mu.Lock()
	t.pems, t.loadedAt, t.refused = pems, time.Now(), nil
	apply := t.apply
	t.mu.Unlock()
	t.log.Info("TLS certificates replaced; new connections get them", "certificates", tlscert.Describe(pems))
	if apply != nil {
		apply(pems)
	}
}

func (t *serverTLS) refuse(err error) {
	t.log.Error("new TLS certificate refused; the serving one stays", keyErr, err)
	t.mu.Lock()
	t.refused = &control.Refusal{Error: err.Error(), At: time.Now()}
	t.mu.Unlock()
}

// run watches the files until ctx ends.
func (t *serverTLS) run(ctx context.Context) {
	if err := t.watcher.Run(ctx); err != nil {
		t.log.Error("TLS certificate watcher stopped; reload still re-reads the files", keyErr, err)
	}
}

// check re-reads the files now (reload); nil-safe.
func (t *serverTLS) check() {
	if t != nil {
		t.watcher.Check()
	}
}

// status is what the control socket shows; nil without TLS.
func (t *serverTLS) status() *control.TLSStatus {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	st := &control.TLSStatus{LoadedAt: t.loadedAt, LastRefused: t.refused}
	for _, c := range tlscert.Describe(t.pems) {
		st.Certificates = append(st.Certificates, control.TLSCert{Subject: c.Subject, Names: c.Names, Serial: c.Serial, NotAfter: c.NotAfter})
	}
	return st
}

// listener wraps ln in TLS when t is set.
func (t *serverTLS) listener(ln net.Listener) net.Listener {
	if t == nil {
		return ln
	}
	return tls.NewListener(ln, t.store.ServerConfig())
}

// startTLS starts the primary's watcher; every accepted set goes to the
// workers. The returned func stops it.
func (pr *Primary) startTLS() (stop func()) {
	if pr.tls == nil {
		return func() {}
	}
	apply := func(pems []tlscert.PEM) { pr.broadcast(message{Type: msgTLS, TLS: pems}) }
	pr.tls.mu.Lock() // a control socket reload may check already
	pr.tls.apply = apply
	pr.tls.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	go pr.tls.run(ctx)
	go pr.rotateTickets(ctx.Done())
	return cancel
}

// workerTLS is a worker's certificates and session ticket keys: the
// primary's latest.
type workerTLS struct {
	store *tlscert.Store
	cfg   *tls.Config // what the listener serves with
	log   *slog.Logger
}

// newWorkerTLS is the configuration of the hello's set and ticket keys;
// nil without TLS.
func newWorkerTLS(h hello, log *slog.Logger) (*workerTLS, error) {
	if len(h.TLS) == 0 {
		return nil, nil
	}
	s, err := tlscert.NewStore(h.TLS)
	if err != nil {
		return nil, err
	}
	w := &workerTLS{store: s, cfg: s.ServerConfig(), log: log}
	if len(h.TicketKeys) > 0 {
		w.cfg.SetSessionTicketKeys(h.TicketKeys)
	}
	return w, nil
}

// update installs what the primary sent: a new set (a set that does not
// parse, which the primary checked, leaves the serving one) or new ticket
// keys.
func (w *workerTLS) update(m message) {
	if w == nil {
		return // serving without TLS: nothing to replace
	}
	if len(m.TicketKeys) > 0 {
		w.cfg.SetSessionTicketKeys(m.TicketKeys)
	}
	if len(m.TLS) == 0 {
		return
	}
	if err := w.store.Set(m.TLS); err != nil {
		w.log.Error("TLS certificates from the primary refused; the serving ones stay", keyErr, err)
		return
	}
	w.log.Debug("TLS certificates replaced")
}

// serveListener starts the in-process server, with TLS and its watcher
// when set (the watcher ends with the process's context: quit).
func (ip *inProcess) serveListener() {
	if ip.tls == nil {
		ip.srv.Serve(ip.ln)
		return
	}
	ip.srv.ServeTLS(ip.ln, ip.tls.store.ServerConfig())
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-ip.quit
		cancel()
	}()
	go ip.tls.run(ctx)
}

// ticketKeys is what a new worker's hello carries; nil-safe.
func (t *serverTLS) ticketKeys() [][32]byte {
	if t == nil {
		return nil
	}
	return t.tickets.current()
}
