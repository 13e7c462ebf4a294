package workers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ErrNotRunning means no primary answers on the control socket.
var ErrNotRunning = errors.New("no wasmcluster instance is running")

// DefaultControlPath is $XDG_RUNTIME_DIR/wasmcluster/control.sock, or
// /tmp/wasmcluster-$UID/control.sock when XDG_RUNTIME_DIR is unset.
func DefaultControlPath() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "wasmcluster", "control.sock")
	}
	return filepath.Join(os.TempDir(), "wasmcluster-"+strconv.Itoa(os.Getuid()), "control.sock")
}

// Status is the primary's answer to "status".
type Status struct {
	PID           int            `json:"pid"`
	Listen        string         `json:"listen"`
	Control       string         `json:"control,omitempty"`
	UptimeSeconds float64        `json:"uptime_seconds"`
	Desired       int            `json:"workers_desired"`
	InProcess     bool           `json:"in_process,omitempty"`
	Version       string         `json:"version,omitempty"`
	Stopping      bool           `json:"stopping,omitempty"`
	LastRoll      string         `json:"last_roll,omitempty"`
	Target        string         `json:"target,omitempty"`    // version a roll in progress moves to
	LastGood      string         `json:"last_good,omitempty"` // version a crash-looping new one reverts to
	Roll          *RollStatus    `json:"roll,omitempty"`      // the roll in progress, else the last one
	Plugin        *PluginStatus  `json:"plugin,omitempty"`    // the plugin file (watcher, refusals)
	Workers       []WorkerStatus `json:"workers"`
}

// WorkerStatus is one worker process (or an empty slot waiting to respawn,
// with PID 0 and state "backoff" or "crash-loop").
type WorkerStatus struct {
	ID            int     `json:"id"`
	PID           int     `json:"pid"`
	State         string  `json:"state"`
	Version       string  `json:"version,omitempty"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	Requests      uint64  `json:"requests"`
	InFlight      int64   `json:"in_flight"`
	RSSBytes      int64   `json:"rss_bytes"`
	Restarts      int     `json:"restarts"`
	LastExit      string  `json:"last_exit,omitempty"`
	CrashLoop     bool    `json:"crash_loop,omitempty"`

	// LatencyBuckets counts this process's requests per LatencyBounds
	// bucket (then +Inf), cumulative over its life: two snapshots give the
	// latency distribution in between (wasmcluster top's p99).
	LatencyBuckets []uint64 `json:"latency_buckets,omitempty"`
}

// controlRequest / controlResponse are one JSON line each way.
type controlRequest struct {
	Cmd  string          `json:"cmd"`
	Args json.RawMessage `json:"args,omitempty"`
}

type controlResponse struct {
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

// controlHandler answers one command; later commands (reload) add entries.
type controlHandler func(ctx context.Context, args json.RawMessage) (any, error)

type controlServer struct {
	ln       net.Listener
	path     string
	handlers map[string]controlHandler
	wg       sync.WaitGroup
}

// FindControlSockets lists the control sockets of running instances in the
// default directory: the default path first, then those of instances that
// found it taken (control-<pid>.sock).
func FindControlSockets() []string {
	def := DefaultControlPath()
	var out []string
	if live(def) {
		out = append(out, def)
	}
	more, _ := filepath.Glob(filepath.Join(filepath.Dir(def), "control-*.sock"))
	for _, p := range more {
		if live(p) {
			out = append(out, p)
		}
	}
	return out
}

func live(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// listenControlDefault binds the default control socket or, when another
// instance holds it, control-<pid>.sock next to it (found by
// FindControlSockets).
func listenControlDefault(handlers map[string]controlHandler) (*controlServer, error) {
	def := DefaultControlPath()
	if err := ensurePrivateDir(filepath.Dir(def)); err != nil {
		return nil, err
	}
	c, err := listenControl(def, handlers)
	if err == nil || !live(def) {
		return c, err
	}
	return listenControl(filepath.Join(filepath.Dir(def), fmt.Sprintf("control-%d.sock", os.Getpid())), handlers)
}

// openControl binds path, or the default when path is empty; "-" means none.
func openControl(path string, handlers map[string]controlHandler) (*controlServer, error) {
	switch path {
	case "-":
		return nil, nil
	case "":
		return listenControlDefault(handlers)
	}
	return listenControl(path, handlers)
}

// listenControl binds the control socket with mode 0600 inside a 0700
// directory, refusing to steal the socket of a live instance.
func listenControl(path string, handlers map[string]controlHandler) (*controlServer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket dir: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another wasmcluster instance is running (stop it, or pick another path with --control)", path)
	}
	os.Remove(path)
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
	return &controlServer{ln: ln, path: path, handlers: handlers}, nil
}

func (c *controlServer) serve() {
	for {
		conn, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.handle(conn)
		}()
	}
}

func (c *controlServer) close() {
	c.ln.Close() // unlinks the path
	c.wg.Wait()
}

func (c *controlServer) handle(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return
	}
	var resp controlResponse
	var req controlRequest
	if err := json.Unmarshal(line, &req); err != nil {
		resp.Error = "bad request: " + err.Error()
	} else if h := c.handlers[req.Cmd]; h == nil {
		resp.Error = fmt.Sprintf("unknown command %q", req.Cmd)
	} else {
		timeout := 25 * time.Second
		if d, ok := controlTimeouts[req.Cmd]; ok {
			timeout = d
			conn.SetDeadline(time.Now().Add(d + 5*time.Second))
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		res, err := h(ctx, req.Args)
		cancel()
		if err != nil {
			resp.Error = err.Error()
		} else if resp.Result, err = json.Marshal(res); err != nil {
			resp.Error = "encode result: " + err.Error()
		} else {
			resp.OK = true
		}
	}
	b, _ := json.Marshal(resp)
	conn.Write(append(b, '\n'))
}

// Control sends one command to the primary at path and decodes its result
// into out (if non-nil). A missing or dead socket yields ErrNotRunning.
func Control(ctx context.Context, path, cmd string, args, out any) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return fmt.Errorf("%w (no control socket at %s)", ErrNotRunning, path)
		}
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	req := controlRequest{Cmd: cmd}
	if args != nil {
		if req.Args, err = json.Marshal(args); err != nil {
			return fmt.Errorf("encode %s args: %w", cmd, err)
		}
	}
	b, _ := json.Marshal(req)
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("send %s: %w", cmd, err)
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("read %s answer: %w", cmd, err)
	}
	var resp controlResponse
	if err := json.Unmarshal(line, &resp); err != nil {
		return fmt.Errorf("decode %s answer: %w", cmd, err)
	}
	if !resp.OK {
		return fmt.Errorf("%s: %s", cmd, resp.Error)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Result, out); err != nil {
			return fmt.Errorf("decode %s result: %w", cmd, err)
		}
	}
	return nil
}

// QueryStatus asks the primary at path for its status.
func QueryStatus(ctx context.Context, path string) (*Status, error) {
	var st Status
	if err := Control(ctx, path, "status", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func (pr *Primary) controlHandlers() map[string]controlHandler {
	return map[string]controlHandler{
		"status": func(ctx context.Context, _ json.RawMessage) (any, error) {
			var st Status
			if !pr.do(func() { st = pr.status() }) {
				return nil, ErrStopping
			}
			return st, nil
		},
		"reload": pr.controlReload, // roll_control.go
	}
}

// status snapshots the supervisor's state (runs on its goroutine).
func (pr *Primary) status() Status {
	now := time.Now()
	st := Status{
		PID: os.Getpid(), Listen: pr.ln.Addr().String(), Control: pr.controlPath(), UptimeSeconds: now.Sub(pr.started).Seconds(),
		Desired: pr.desired, Version: pr.spec.Version, Stopping: pr.stopping, LastRoll: pr.lastRoll,
	}
	pr.rollStatus(&st) // roll_control.go
	seen := make(map[*proc]bool)
	for _, s := range pr.slots {
		ws := WorkerStatus{ID: s.id, Restarts: s.restarts, LastExit: s.lastExit, CrashLoop: s.crashLoop, State: "backoff"}
		if s.crashLoop {
			ws.State = "crash-loop"
		}
		if s.cur != nil {
			seen[s.cur] = true
			fillProc(&ws, s.cur, now)
		}
		st.Workers = append(st.Workers, ws)
	}
	for p := range pr.procs { // surge and draining workers
		if !seen[p] {
			ws := WorkerStatus{ID: p.id}
			fillProc(&ws, p, now)
			st.Workers = append(st.Workers, ws)
		}
	}
	pr.opsStatus(&st) // metrics.go
	return st
}

func fillProc(ws *WorkerStatus, p *proc, now time.Time) {
	ws.PID, ws.State, ws.Version = p.pid, string(p.state), p.version
	if ws.Version == "" {
		ws.Version = p.spec.Version
	}
	ws.UptimeSeconds = now.Sub(p.started).Seconds()
	ws.Requests, ws.InFlight = p.requests, p.inFlight
	ws.RSSBytes = readRSS(p.pid)
	if p.state == stateExited {
		ws.LastExit = p.exitDesc
	}
}
