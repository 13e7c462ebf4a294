package host

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

var errPoolClosed = errors.New("plugin closed")

// errPoolFull is a request that found every instance busy, the pool at its
// bound, and none freed up within Config.PoolWait.
var errPoolFull = errors.New("every plugin instance is busy")

// pool is an explicit, bounded set of instances. Why not sync.Pool: it drops
// objects at GC, re-running guest initialization, and cannot bound how many
// instances are alive (DESIGN.md §3).
//
// It keeps size instances (prewarmed, and kept idle when the load drops)
// and grows on demand up to max, the bound Config.MemoryBudget allows.
type pool struct {
	idle  chan *instance // ready instances; capacity = max
	slots chan struct{}  // one token per instance that may still be created
	size  int            // instances prewarmed and kept idle
	max   int            // instances alive at most
	wait  time.Duration  // how long a get waits once every instance is busy
	keep  time.Duration  // how long instances past size stay after demand last exceeded the idle set
	make  func(context.Context) (*instance, error)

	// short is when (Unix ns) a get last found no idle instance: while
	// that is recent, instances past size are kept, so steady load above
	// size does not instantiate a guest per request.
	short atomic.Int64

	waits    atomic.Uint64 // gets that found every instance busy at the bound
	rejected atomic.Uint64 // of those, gets that gave up after wait

	mu     sync.Mutex
	live   int
	closed bool
	all    map[*instance]struct{} // live instances, for the stuck-request watchdog
}

func newPool(size, limit int, wait, keep time.Duration, mk func(context.Context) (*instance, error)) *pool {
	limit = max(limit, size)
	p := &pool{
		idle:  make(chan *instance, limit),
		slots: make(chan struct{}, limit),
		size:  size,
		max:   limit,
		wait:  wait,
		keep:  keep,
		make:  mk,
		all:   make(map[*instance]struct{}, size),
	}
	for range limit {
		p.slots <- struct{}{}
	}
	return p
}

// add puts an instance created outside the pool (the one load
// initialized) into it, taking a slot.
func (p *pool) add(inst *instance) {
	<-p.slots
	p.mu.Lock()
	p.live++
	p.all[inst] = struct{}{}
	p.mu.Unlock()
	p.idle <- inst
}

// prewarm fills the pool to its size so the first requests do not pay
// instantiation. It runs beside requests: it stops, without error, once
// size instances live (requests may have created instances on demand) or
// ctx ends, and an instance created after the pool closed is discarded.
func (p *pool) prewarm(ctx context.Context) error {
	for ctx.Err() == nil {
		if live, _ := p.counts(); live >= p.size {
			return nil
		}
		select {
		case <-p.slots:
		default:
			return nil
		}
		inst, err := p.create(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("prewarm instance pool: %w", err)
		}
		p.put(inst)
	}
	return nil
}

func (p *pool) create(ctx context.Context) (*instance, error) {
	inst, err := p.make(ctx)
	if err != nil {
		p.slots <- struct{}{}
		return nil, err
	}
	p.mu.Lock()
	p.live++
	p.all[inst] = struct{}{}
	p.mu.Unlock()
	return inst, nil
}

// get returns an idle instance, creates one while under the bound, or waits
// for one: until Config.PoolWait has passed (errPoolFull), the request's
// deadline passed, or ctx is done.
func (p *pool) get(ctx context.Context, deadline time.Time) (*instance, error) {
	select {
	case inst := <-p.idle:
		return inst, nil
	default:
	}
	p.short.Store(time.Now().UnixNano())
	select {
	case <-p.slots:
		return p.createInSlot(ctx)
	default:
	}
	p.waits.Add(1) // every instance is busy and the pool is at its bound
	giveUp, full := time.Now().Add(p.wait), true
	if deadline.Before(giveUp) {
		giveUp, full = deadline, false
	}
	timer := time.NewTimer(time.Until(giveUp))
	defer timer.Stop()
	select {
	case inst := <-p.idle:
		return inst, nil
	case <-p.slots:
		return p.createInSlot(ctx)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		if !full {
			return nil, context.DeadlineExceeded
		}
		p.rejected.Add(1)
		return nil, errPoolFull
	}
}

// createInSlot creates an instance with a slot token already taken.
func (p *pool) createInSlot(ctx context.Context) (*instance, error) {
	if p.isClosed() {
		p.slots <- struct{}{}
		return nil, errPoolClosed
	}
	return p.create(ctx)
}

// release hands inst back after a request: to the idle set when it is
// healthy, closed when its request failed or the watchdog interrupted it.
// A discarded instance never runs again, so its request state is left for
// the caller's error answer.
func (p *pool) release(inst *instance, failed bool) {
	inst.rq.outbound.closeAll() // the request is over: so are its calls
	if inst.end() || failed {
		p.discard(inst)
		return
	}
	inst.rq.phase = phaseIdle
	p.put(inst)
}

// put returns a healthy instance to the idle set, or closes it when size
// instances already wait there and no request has found the idle set
// empty for keep: instances created past size for a burst give their
// memory back once the burst is over (one per request returning after
// that), and sustained load above size keeps them instead of
// instantiating a guest per request.
func (p *pool) put(inst *instance) {
	busy := time.Now().UnixNano()-p.short.Load() < int64(p.keep)
	// The check and the send under one lock: two instances returned at
	// once must not both see room for one (nor one race close's drain).
	p.mu.Lock()
	keep := !p.closed && (len(p.idle) < p.size || busy)
	if keep {
		p.idle <- inst // never blocks: at most max instances exist
	}
	p.mu.Unlock()
	if !keep {
		p.discard(inst)
	}
}

// discard closes an instance that must not serve again and frees its slot.
func (p *pool) discard(inst *instance) {
	inst.close()
	p.mu.Lock()
	p.live--
	delete(p.all, inst)
	p.mu.Unlock()
	p.slots <- struct{}{}
}

func (p *pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// close discards idle instances; busy ones are discarded when returned.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	for {
		select {
		case inst := <-p.idle:
			p.discard(inst)
		default:
			return
		}
	}
}

// oldestBusy is how long the longest-running request has been in a guest.
func (p *pool) oldestBusy(now int64) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var oldest time.Duration
	for inst := range p.all {
		if t := inst.started.Load(); t > 0 && time.Duration(now-t) > oldest {
			oldest = time.Duration(now - t)
		}
	}
	return oldest
}

// interruptOverdue interrupts every request older than timeout, or whose
// client went away.
func (p *pool) interruptOverdue(now int64, timeout time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for inst := range p.all {
		t := inst.started.Load()
		if t <= 0 {
			continue
		}
		if time.Duration(now-t) >= timeout {
			inst.interrupt(t, stopDeadline)
		} else if r := inst.call.req.Load(); r != nil && r.Context().Err() != nil {
			inst.interrupt(t, stopCanceled)
		}
	}
}

func (p *pool) counts() (live, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live, len(p.idle)
}
