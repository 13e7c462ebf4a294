package embedded

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wasmcluster/wasmcluster/kv"
)

// Options configure Start.
type Options struct {
	// Dir holds the data (kv.dir); created 0700 when missing. Required.
	Dir string
	// Logger receives the server's warnings and errors (its notices at
	// Debug); nil discards them.
	Logger *slog.Logger
	// MaxValue is kv.max_value; the server's max payload is set above it.
	// 0 is kv.DefaultMaxValue.
	MaxValue int
	// NoListen opens no TCP port: only InProcessConn clients (--workers 0).
	NoListen bool
}

// Server is a running embedded NATS server with JetStream.
type Server struct {
	ns    *server.Server
	dir   string
	token string
	lock  *os.File // held on dir/LOCK until Shutdown
}

// startWait bounds the wait for a server without a ctx deadline.
const startWait = 30 * time.Second

// payloadSlack is what a message carries besides the value: subject and
// headers (TTL, expiry, message id), with room to spare over the 64 KiB
// natskv allows for them.
const payloadSlack = 128 << 10

// Start runs the server: JetStream with file storage under Options.Dir,
// listening on 127.0.0.1 on a free port, a random token required of every
// client. It returns once the server accepts connections. A Dir that cannot
// be created or written, or that another server holds, is an error naming
// kv.dir.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Dir == "" {
		return nil, errors.New("kv.dir is empty: the embedded store needs a directory")
	}
	dir, err := prepareDir(o.Dir)
	if err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	srv, err := start(ctx, o, dir)
	if err != nil {
		lock.Close()
		return nil, err
	}
	srv.lock = lock
	if o.Logger != nil {
		o.Logger.Info("kv: embedded store started", "dir", dir, "url", srv.ClientURL())
	}
	return srv, nil
}

func start(ctx context.Context, o Options, dir string) (*Server, error) {
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	ns, err := server.NewServer(serverOptions(o, dir, token))
	if err != nil {
		return nil, fmt.Errorf("kv: embedded NATS server: %w", err)
	}
	if o.Logger != nil {
		ns.SetLoggerV2(slogger{o.Logger.With("component", "kv-embedded")}, false, false, false)
	}
	ns.Start()
	if err := waitReady(ctx, ns); err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, err
	}
	return &Server{ns: ns, dir: dir, token: token}, nil
}

func serverOptions(o Options, dir, token string) *server.Options {
	maxValue := o.MaxValue
	if maxValue == 0 {
		maxValue = kv.DefaultMaxValue
	}
	return &server.Options{
		ServerName:         "wasmcluster-kv",
		Host:               "127.0.0.1",
		Port:               server.RANDOM_PORT,
		DontListen:         o.NoListen,
		Authorization:      token,
		JetStream:          true,
		StoreDir:           dir,
		JetStreamMaxMemory: 64 << 20, // the bucket uses file storage
		MaxPayload:         int32(maxValue + payloadSlack),
		NoSigs:             true, // the process's signals are wasmcluster's
		NoLog:              o.Logger == nil,
	}
}

func waitReady(ctx context.Context, ns *server.Server) error {
	wait := startWait
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	if !ns.ReadyForConnections(wait) {
		return fmt.Errorf("kv: embedded NATS server not ready after %v", wait.Round(time.Millisecond))
	}
	if !ns.JetStreamEnabled() {
		return errors.New("kv: embedded NATS server started without JetStream (see its log)")
	}
	return nil
}

// prepareDir creates dir 0700 and proves it writable, so a bad kv.dir is
// one clear error at start instead of a server without JetStream.
func prepareDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("kv.dir = %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", fmt.Errorf("kv.dir = %q: cannot create: %w", dir, err)
	}
	f, err := os.CreateTemp(abs, ".probe-*")
	if err != nil {
		return "", fmt.Errorf("kv.dir = %q: not writable: %w", dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return abs, nil
}

func newToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("kv: generating the embedded server's token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// ClientURL is the nats:// URL on 127.0.0.1 that worker processes connect
// to; "" with Options.NoListen.
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// Token is the secret every client must present, new at each Start. Hand
// it to workers (WorkerConfig does) but never log it.
func (s *Server) Token() string { return s.token }

// Dir is the absolute directory holding the data.
func (s *Server) Dir() string { return s.dir }

// InProcessConn connects a client in this process without a socket
// (nats.InProcessServer uses it); the client still needs the token.
func (s *Server) InProcessConn() (net.Conn, error) { return s.ns.InProcessConn() }

// WorkerConfig is cfg for a worker process: the server's URL and token,
// marked Embedded, one replica.
func (s *Server) WorkerConfig(cfg kv.Config) kv.Config {
	cfg.URL, cfg.Token, cfg.Embedded, cfg.Replicas = s.ClientURL(), s.token, true, 1
	cfg.InProcess = nil
	return cfg
}

// InProcessConfig is cfg for a store in this process (--workers 0): the
// in-process connection and the token, marked Embedded, one replica.
func (s *Server) InProcessConfig(cfg kv.Config) kv.Config {
	cfg.URL, cfg.Token, cfg.Embedded, cfg.Replicas = kv.URLEmbedded, s.token, true, 1
	cfg.InProcess = s
	return cfg
}

// Shutdown stops the server, flushing JetStream to Dir, and waits for it.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	if s.lock != nil {
		s.lock.Close()
	}
}
