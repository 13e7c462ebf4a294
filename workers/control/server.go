package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/unixsock"
)

// Handler answers one command; its result is encoded as JSON.
type Handler func(ctx context.Context, args json.RawMessage) (any, error)

// defaultTimeout bounds a command; timeouts lifts it for commands that wait
// for a roll.
const defaultTimeout = 25 * time.Second

var timeouts = map[string]time.Duration{CmdReload: 15 * time.Minute}

// Server answers commands on a control socket.
type Server struct {
	ln       net.Listener
	path     string
	handlers map[string]Handler
	wg       sync.WaitGroup

	// ErrorLog, when set before Serve, is told when accepting fails (and
	// is retried).
	ErrorLog *slog.Logger
}

// Open binds the control socket at path, or at DefaultPath when path is
// empty (control-<pid>.sock beside it when another instance holds it);
// "-" means no socket, and Open returns nil, nil. A given path in use by a
// live instance is an error.
func Open(path string, handlers map[string]Handler) (*Server, error) {
	switch path {
	case "-":
		return nil, nil
	case "":
		return listenDefault(handlers)
	}
	return listen(path, handlers)
}

// listenDefault binds the default control socket or, when another
// instance holds it, control-<pid>.sock next to it (found by FindSockets).
func listenDefault(handlers map[string]Handler) (*Server, error) {
	def := DefaultPath()
	if err := ensurePrivateDir(filepath.Dir(def)); err != nil {
		return nil, err
	}
	s, err := listen(def, handlers)
	if err == nil || !unixsock.Live(def) {
		return s, err
	}
	return listen(filepath.Join(filepath.Dir(def), fmt.Sprintf("control-%d.sock", os.Getpid())), handlers)
}

// listen binds the control socket with mode 0600 inside a 0700 directory,
// refusing to steal the socket of a live instance.
func listen(path string, handlers map[string]Handler) (*Server, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket dir: %w", err)
	}
	if err := unixsock.RemoveStale(path); errors.Is(err, unixsock.ErrInUse) {
		return nil, fmt.Errorf("control socket %s: another wasmcluster instance is running (stop it, or pick another path with --control)", path)
	} else if err != nil {
		// Only a stale socket is ours to delete: --control names a path,
		// and a mistyped one must not cost someone a file.
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// No umask games (process-wide, racy): the 0700 directory covers the
	// moment between bind and chmod.
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return &Server{ln: ln, path: path, handlers: handlers}, nil
}

// Path is where the socket listens.
func (s *Server) Path() string { return s.path }

// Serve accepts connections until Close; a failed accept (out of file
// descriptors, say) is retried with backoff, never the end of the socket.
func (s *Server) Serve() {
	acceptLoop(s.ln, s.ErrorLog, func(conn net.Conn) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(conn)
		}()
	})
}

// Close removes the socket and waits for the commands under way.
func (s *Server) Close() {
	s.ln.Close() // unlinks the path
	s.wg.Wait()
}

func (s *Server) handle(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(defaultTimeout + 5*time.Second))
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return
	}
	var resp response
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		resp.Error = "bad request: " + err.Error()
	} else if h := s.handlers[req.Cmd]; h == nil {
		resp.Error = fmt.Sprintf("unknown command %q", req.Cmd)
	} else {
		resp = s.run(conn, h, req)
	}
	b, _ := json.Marshal(resp)
	conn.Write(append(b, '\n'))
}

// run calls h under the command's time bound.
func (s *Server) run(conn net.Conn, h Handler, req request) response {
	timeout := defaultTimeout
	if d, ok := timeouts[req.Cmd]; ok {
		timeout = d
		conn.SetDeadline(time.Now().Add(d + 5*time.Second))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var resp response
	res, err := h(ctx, req.Args)
	if err != nil {
		resp.Error = err.Error()
	} else if resp.Result, err = json.Marshal(res); err != nil {
		resp.Error = "encode result: " + err.Error()
	} else {
		resp.OK = true
	}
	return resp
}
