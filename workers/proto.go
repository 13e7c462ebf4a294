package workers

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/httpserve"
	"github.com/wasmcluster/wasmcluster/workers/tlscert"
)

// The primary↔worker protocol: newline-delimited JSON on a socketpair
// (the worker's fd 4). One message type with optional fields keeps the
// codec trivial; Type says which fields matter.
const (
	msgHello    = "hello"    // primary → worker: Hello
	msgDrain    = "drain"    // primary → worker: drain carefully, then exit
	msgStop     = "stop"     // primary → worker: fast stop
	msgServe    = "serve"    // primary → worker: a held worker may serve (hello.Hold)
	msgReady    = "ready"    // worker → primary: Version
	msgBeat     = "hb"       // worker → primary: Requests, InFlight
	msgDraining = "draining" // worker → primary: stopped accepting
	msgFatal    = "fatal"    // worker → primary: Error, then exits
	msgTLS      = "tls"      // primary → worker: TLS, the new serving certificates (tls.go)
)

// workerEnv marks a process as a worker started by a primary; its value is
// the protocol version. Without it, RunWorker refuses to run.
const (
	workerEnv      = "WASMCLUSTER_WORKER"
	protoVersion   = "1"
	listenerFD     = 3
	controlFD      = 4
	balanceFD      = 5 // the connection balance table, when the hello says Balance
	maxMessageSize = 1 << 20
)

// hello is everything a worker needs besides its LoadFunc.
type hello struct {
	ID                int               `json:"id"`
	Spec              Spec              `json:"spec"`
	HeartbeatInterval time.Duration     `json:"heartbeat_interval"`
	DrainTimeout      time.Duration     `json:"drain_timeout"`
	Server            httpserve.Options `json:"server"`
	LogLevel          slog.Level        `json:"log_level"` // the primary's; lines below it would be dropped anyway
	// Hold: after loading and self-testing, wait for msgServe before
	// accepting (the primary's Gate has not passed yet).
	Hold bool `json:"hold,omitempty"`
	// TLS, when set, is terminated by the worker with these pairs (tls.go).
	TLS []tlscert.PEM `json:"tls,omitempty"`
	// TicketKeys are the TLS session ticket keys, newest first, shared by
	// every worker (tls_tickets.go).
	TicketKeys [][32]byte `json:"ticket_keys,omitempty"`
	// Procs is the worker's GOMAXPROCS once it serves; 0 leaves Go's.
	Procs int `json:"procs,omitempty"`
	// Balance: fd 5 is the shared connection table and BalanceSlot the
	// worker's entry in it (package balance).
	Balance     bool `json:"balance,omitempty"`
	BalanceSlot int  `json:"balance_slot,omitempty"`
}

type message struct {
	Type     string `json:"type"`
	Hello    *hello `json:"hello,omitempty"`
	Version  string `json:"version,omitempty"`
	Requests uint64 `json:"requests,omitempty"`
	InFlight int64  `json:"in_flight,omitempty"`
	Error    string `json:"error,omitempty"`

	Metrics *httpserve.Metrics `json:"metrics,omitempty"` // hb: the server's counts
	TLS     []tlscert.PEM      `json:"tls,omitempty"`     // tls: the new certificates
	// tls: the new session ticket keys, newest first
	TicketKeys [][32]byte `json:"ticket_keys,omitempty"`
}

// conn is one end of the protocol; writes are serialized.
type conn struct {
	r  *bufio.Reader
	mu sync.Mutex
	w  io.Writer
}

func newConn(rw io.ReadWriter) *conn {
	return &conn{r: bufio.NewReaderSize(rw, 4096), w: rw}
}

func (c *conn) send(m message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Type, err)
	}
	b = append(b, '\n')
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(b); err != nil {
		return fmt.Errorf("send %s message: %w", m.Type, err)
	}
	return nil
}

// recv reads one message; io.EOF means the peer is gone.
func (c *conn) recv() (message, error) {
	var line []byte
	for {
		chunk, isPrefix, err := c.r.ReadLine()
		if err != nil {
			return message{}, err
		}
		line = append(line, chunk...)
		if len(line) > maxMessageSize {
			return message{}, fmt.Errorf("protocol message over %d bytes", maxMessageSize)
		}
		if !isPrefix {
			break
		}
	}
	var m message
	if err := json.Unmarshal(line, &m); err != nil {
		return message{}, fmt.Errorf("decode protocol message: %w", err)
	}
	return m, nil
}
