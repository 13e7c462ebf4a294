package workers

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procState is a worker process's life, as the supervisor sees it.
type procState string

const (
	stateStarting procState = "starting"
	stateReady    procState = "ready"
	stateDraining procState = "draining"
	stateStopping procState = "stopping" // fast stop or kill under way
	stateExited   procState = "exited"
)

// proc is one worker process. Every field is owned by the supervisor
// goroutine except the immutable ones set in spawn.
type proc struct {
	id   int // slot id shown to users
	seq  int // unique per primary
	spec Spec
	cmd  *exec.Cmd
	pid  int
	ctrl *conn
	nc   net.Conn

	state    procState
	version  string
	started  time.Time
	readyAt  time.Time
	lastBeat time.Time
	requests uint64
	inFlight int64
	reason   string    // why the primary stopped it; empty = unexpected exit
	fatalErr string    // what the worker said before giving up
	dumped   bool      // SIGQUIT sent
	killAt   time.Time // SIGKILL deadline, zero = none
	exitDesc string

	held    bool         // told to wait for msgServe (the primary's Gate)
	bslot   int          // its entry in the connection balance table, -1 none
	waiters []chan error // startWorker callers waiting for ready
	exited  chan struct{}
}

// event is what process watchers send to the supervisor.
type event struct {
	p    *proc
	msg  *message // a protocol message, or nil for exit
	exit error    // Wait's result when msg is nil
	st   *os.ProcessState
}

// spawner starts processes from one OS thread locked for its whole life:
// Pdeathsig fires when the spawning *thread* exits, not the process (Go
// issue 27505), and an unlocked goroutine's thread may exit at any time.
func spawner(reqs <-chan spawnReq) {
	runtime.LockOSThread()
	for r := range reqs {
		r.done <- r.cmd.Start()
	}
}

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

// spawn starts a worker for slot id on spec and its watcher goroutines.
// A held worker loads and self-tests, then waits for msgServe (the gate,
// or a roll claiming a staged worker) before it accepts.
func (pr *Primary) spawn(id int, spec Spec, hold bool) (*proc, error) {
	argv, err := pr.workerArgv()
	if err != nil {
		return nil, err
	}
	nc, theirs, err := controlPair()
	if err != nil {
		return nil, err
	}
	defer theirs.Close()
	bslot := pr.claimBalanceSlot()
	cmd, logR, err := pr.startProcess(argv, theirs, bslot >= 0)
	if err != nil {
		nc.Close()
		pr.board.Release(bslot)
		return nil, err
	}
	pr.seq++
	p := &proc{
		id: id, seq: pr.seq, spec: spec, cmd: cmd, pid: cmd.Process.Pid,
		ctrl: newConn(nc), nc: nc, state: stateStarting, held: hold,
		started: time.Now(), lastBeat: time.Now(), exited: make(chan struct{}), bslot: bslot,
	}
	h := hello{ID: id, Spec: spec, HeartbeatInterval: pr.opts.HeartbeatInterval,
		DrainTimeout: pr.opts.DrainTimeout, Server: pr.opts.Server, LogLevel: minLevel(pr.log), Hold: hold,
		TLS: pr.tls.current(), TicketKeys: pr.tls.ticketKeys(),
		Procs:   workerProcs(pr.opts.WorkerProcs, UsableCPUs(), pr.opts.Workers, append(os.Environ(), pr.opts.WorkerEnv...)),
		Balance: bslot >= 0, BalanceSlot: bslot}
	// A failed hello shows up as the worker exiting; the watcher reports it.
	p.ctrl.send(message{Type: msgHello, Hello: &h})
	pr.watch(p, logR)
	return p, nil
}

// workerArgv is the command that starts a worker.
func (pr *Primary) workerArgv() ([]string, error) {
	if argv := pr.opts.WorkerCommand; len(argv) > 0 {
		return argv, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	return []string{exe, "worker"}, nil
}

// controlPair is a socketpair for the protocol: the primary's end as a
// net.Conn, the worker's as the file it inherits.
func controlPair() (net.Conn, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "control"), os.NewFile(uintptr(fds[1]), "control-worker")
	nc, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		theirs.Close()
		return nil, nil, fmt.Errorf("control conn: %w", err)
	}
	return nc, theirs, nil
}

// startProcess starts argv with the listener as fd 3, control as fd 4 and,
// when balanced, the connection balance table as fd 5, from the spawner's
// locked thread; logR reads its stdout and stderr.
func (pr *Primary) startProcess(argv []string, control *os.File, balanced bool) (cmd *exec.Cmd, logR *os.File, err error) {
	logR, logW, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("log pipe: %w", err)
	}
	defer logW.Close()
	cmd = exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(slices.Clip(os.Environ()), pr.opts.WorkerEnv...)
	cmd.Env = append(cmd.Env, workerEnv+"="+protoVersion)
	cmd.Stdout, cmd.Stderr = logW, logW
	cmd.ExtraFiles = []*os.File{pr.lnFile, control} // fds 3 and 4
	if balanced {
		cmd.ExtraFiles = append(cmd.ExtraFiles, pr.boardFile) // fd 5
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Pdeathsig: syscall.SIGTERM, // drain if the primary dies
		Setpgid:   true,            // terminal ^C/^\ reach only the primary
	}
	done := make(chan error, 1)
	pr.spawnCh <- spawnReq{cmd: cmd, done: done}
	if err := <-done; err != nil {
		logR.Close()
		return nil, nil, fmt.Errorf("start worker %s: %w", argv[0], err)
	}
	return cmd, logR, nil
}

// watch starts p's watchers: its log relay, its messages and its exit, all
// posted to the supervisor.
func (pr *Primary) watch(p *proc, logR *os.File) {
	logDone := make(chan struct{})
	go relayLog(pr.log.With(keyWorker, p.id, keyPID, p.pid), logR, logDone)
	msgsDone := make(chan struct{})
	go func() {
		defer close(msgsDone)
		for {
			m, err := p.ctrl.recv()
			if err != nil {
				return
			}
			pr.post(event{p: p, msg: &m})
		}
	}()
	go func() {
		err := p.cmd.Wait()
		// Let the last lines (a stack dump) be logged, and the last
		// messages (a fatal error: why it exited) be handled, before the
		// exit: the exit event must not overtake its reason.
		deadline := time.Now().Add(2 * time.Second)
		for _, done := range []<-chan struct{}{logDone, msgsDone} {
			select {
			case <-done:
			case <-time.After(time.Until(deadline)):
			}
		}
		p.nc.Close()
		pr.post(event{p: p, exit: err, st: p.cmd.ProcessState})
	}()
}

// minLevel is the lowest level log emits, so workers do not format lines
// the primary would drop.
func minLevel(log *slog.Logger) slog.Level {
	for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn} {
		if log.Enabled(context.Background(), l) {
			return l
		}
	}
	return slog.LevelError
}

// signal sends sig to the worker, ignoring a process already gone.
func (p *proc) signal(sig syscall.Signal) {
	if p.state != stateExited {
		syscall.Kill(p.pid, sig)
	}
}

// describeExit turns a wait status into a short reason.
func describeExit(st *os.ProcessState, err error) string {
	if st == nil {
		if err != nil {
			return err.Error()
		}
		return "unknown"
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "signal " + unix.SignalName(ws.Signal())
	}
	return fmt.Sprintf("exit status %d", st.ExitCode())
}

// relayLog re-logs each line of a worker's stderr whole through log: JSON
// slog records keep their level, message and attributes; anything else (a
// panic, a stack dump) is logged as one line.
func relayLog(log *slog.Logger, r io.ReadCloser, done chan<- struct{}) {
	defer close(done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br, 256<<10)
		if len(line) > 0 {
			relayLine(log, line)
		}
		if err != nil {
			return
		}
	}
}

func readLine(br *bufio.Reader, limit int) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if len(b) < limit {
			b = append(b, chunk[:min(len(chunk), limit-len(b))]...)
		}
		if err != nil || !isPrefix {
			return string(b), err
		}
	}
}

// relayWriter relays each Write (one whole line, as the access log writes
// them) through relayLine, so the in-process server's access lines reach
// the log exactly as a worker's relayed stderr lines do.
type relayWriter struct{ log *slog.Logger }

func (w relayWriter) Write(b []byte) (int, error) {
	relayLine(w.log, strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

func relayLine(log *slog.Logger, line string) {
	var rec map[string]any
	if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &rec) != nil {
		log.Info(line, keyStream, "stderr")
		return
	}
	msg, _ := rec[slog.MessageKey].(string)
	var lvl slog.Level
	if s, ok := rec[slog.LevelKey].(string); ok {
		lvl.UnmarshalText([]byte(s))
	}
	keys := make([]string, 0, len(rec))
	for k := range rec {
		switch k {
		case slog.MessageKey, slog.LevelKey, slog.TimeKey, keyWorker:
		default:
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, rec[k]))
	}
	log.LogAttrs(context.Background(), lvl, msg, attrs...)
}

// readRSS returns a process's resident set size in bytes, or 0.
func readRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	var pages int64
	fmt.Sscan(f[1], &pages)
	return pages * int64(os.Getpagesize())
}
