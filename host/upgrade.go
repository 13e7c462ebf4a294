package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
)

// holdForResponse decides whether inst stays with the request through next
// for handle_response. Not when the guest has no handle_response, not for
// an upgraded connection (the response phase does not apply to a stream),
// and not when the guest says, through the optional extension export
// abi.ExportResponseWanted, that it has nothing to do there.
func (p *Plugin) holdForResponse(ctx context.Context, inst *instance, rq *request, c abi.CtxNext) (bool, error) {
	if inst.handleResponse == nil || rq.upgrade {
		return false, nil
	}
	if inst.responseWanted == nil {
		return true, nil // the public ABI: handle_response runs
	}
	stack := inst.stack[:]
	stack[0] = uint64(c.Ctx())
	if err := inst.responseWanted.CallWithStack(ctx, stack); err != nil {
		return false, fmt.Errorf("%s: %w", abi.ExportResponseWanted, err)
	}
	return uint32(stack[0]) != 0, nil
}

// isUpgrade reports whether the request asks to switch protocols
// (Connection: Upgrade, as a WebSocket handshake does).
func isUpgrade(h http.Header) bool {
	for _, v := range h["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// busy answers a request that found no free instance within PoolWait.
func busy(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Retry-After", "1")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintln(w, "service unavailable: every plugin instance is busy; retry later")
}

// An upgraded connection is not a request: RequestTimeout bounds next only
// until the connection is handed over (the upstream answered 101 and the
// proxy hijacked the client's connection); the stream then lives until a
// side closes it or the server ends it (a worker's drain).

// Where an upgrade request's deadline stands.
const (
	upgradePending int32 = iota // before the hijack: the deadline applies
	upgradeOpen                 // hijacked: no deadline
	upgradeExpired              // the deadline passed first
)

var errUpgradeLate = errors.New("request_timeout passed before the connection was upgraded")

// upgradeGuard is the deadline of an upgrade request, lifted at the hijack.
type upgradeGuard struct {
	state  atomic.Int32
	timer  *time.Timer
	cancel context.CancelCauseFunc
}

// nextContext is the context next runs in: rq's deadline, or for an
// upgrade a deadline lifted once the connection is hijacked (the guard,
// whose writer must then wrap next's).
func nextContext(parent context.Context, rq *request) (context.Context, context.CancelFunc, *upgradeGuard) {
	if !rq.upgrade {
		ctx, cancel := context.WithDeadline(parent, rq.deadline)
		return ctx, cancel, nil
	}
	ctx, cancel := context.WithCancelCause(parent)
	g := &upgradeGuard{cancel: cancel}
	g.timer = time.AfterFunc(time.Until(rq.deadline), func() {
		if g.state.CompareAndSwap(upgradePending, upgradeExpired) {
			cancel(context.DeadlineExceeded)
		}
	})
	return ctx, func() {
		g.timer.Stop()
		cancel(nil)
	}, g
}

// upgradeWriter is next's writer for an upgrade request: its Hijack lifts
// the deadline.
type upgradeWriter struct {
	*statusWriter
	g *upgradeGuard
}

func (u upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !u.g.state.CompareAndSwap(upgradePending, upgradeOpen) {
		return nil, nil, errUpgradeLate
	}
	u.g.timer.Stop()
	return http.NewResponseController(u.statusWriter).Hijack()
}
