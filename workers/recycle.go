package workers

import (
	"context"
	"math/rand/v2"
	"time"
)

// RecycleOptions replace a worker that served too many requests, grew too
// big or lived too long — always surge-then-drain: the replacement starts
// and becomes ready before the old worker drains, so capacity never dips
// and no request fails. One worker is recycled at a time, never during a
// roll. Zero values disable each limit.
type RecycleOptions struct {
	// MaxRequests recycles a worker after this many requests, plus a
	// random 0..MaxRequestsJitter so workers started together do not all
	// recycle at once (gunicorn's max_requests_jitter).
	MaxRequests uint64
	// MaxRequestsJitter defaults to MaxRequests/10.
	MaxRequestsJitter uint64

	// MaxRSS recycles a worker whose resident memory stays above this many
	// bytes for MaxRSSFor (sampled every second, every 200ms above 90% of
	// MaxRSS).
	MaxRSS int64
	// MaxRSSFor defaults to 5s: the samples over MaxRSS must span
	// MaxRSSFor minus one sampling second, so 1s or less recycles at the
	// first sample over the limit.
	MaxRSSFor time.Duration

	// MaxAge recycles a worker this long after it became ready, plus up
	// to 10% at random.
	MaxAge time.Duration
}

func (o RecycleOptions) withDefaults() RecycleOptions {
	if o.MaxRequests > 0 && o.MaxRequestsJitter == 0 {
		o.MaxRequestsJitter = o.MaxRequests / 10
	}
	if o.MaxRSSFor <= 0 {
		o.MaxRSSFor = 5 * time.Second
	}
	return o
}

func (o RecycleOptions) enabled() bool {
	return o.MaxRequests > 0 || o.MaxRSS > 0 || o.MaxAge > 0
}

// recycleState is supervisor-owned.
type recycleState struct {
	procs    map[*proc]*recycleProc
	busy     bool      // a recycle is under way
	retryAt  time.Time // after a failed replacement start
	recycled map[string]uint64
}

type recycleProc struct {
	maxRequests uint64
	maxAge      time.Duration
	rssOver     time.Time // first sample over MaxRSS in the current run; zero if under
}

func (pr *Primary) forgetRecycle(p *proc) { delete(pr.ops.recycle.procs, p) }

// checkRecycle runs on every supervisor tick.
func (pr *Primary) checkRecycle(now time.Time) {
	pr.sampleRSS(now)
	o := pr.opts.Recycle.withDefaults()
	rs := &pr.ops.recycle
	if !o.enabled() || pr.stopping || !pr.everReady {
		return
	}
	if rs.procs == nil {
		rs.procs = make(map[*proc]*recycleProc)
	}
	var pick *proc
	var why string
	for _, s := range pr.slots {
		p := s.cur
		if p == nil || p.state != stateReady {
			continue
		}
		rp := rs.procs[p]
		if rp == nil {
			rp = &recycleProc{}
			if o.MaxRequests > 0 {
				rp.maxRequests = o.MaxRequests + rand.Uint64N(o.MaxRequestsJitter+1)
			}
			if o.MaxAge > 0 {
				rp.maxAge = o.MaxAge + time.Duration(rand.Int64N(int64(o.MaxAge)/10+1))
			}
			rs.procs[p] = rp
		}
		if o.MaxRSS > 0 {
			if rss := pr.ops.rss[p]; rss > o.MaxRSS {
				if rp.rssOver.IsZero() {
					rp.rssOver = now
				}
			} else {
				rp.rssOver = time.Time{}
			}
		}
		var r string
		switch {
		case !rp.rssOver.IsZero() && now.Sub(rp.rssOver) >= o.MaxRSSFor-time.Second:
			r = "recycle max_rss"
		case rp.maxRequests > 0 && p.requests >= rp.maxRequests:
			r = "recycle max_requests"
		case rp.maxAge > 0 && now.Sub(p.readyAt) >= rp.maxAge:
			r = "recycle max_age"
		}
		if r != "" && pick == nil {
			pick, why = p, r
		}
	}
	if pick == nil || rs.busy || pr.ops.rolling || now.Before(rs.retryAt) {
		return
	}
	rs.busy = true
	pr.log.Info("recycling worker", keyWorker, pick.id, keyPID, pick.pid, keyReason, why,
		"requests", pick.requests, "rss", pr.ops.rss[pick])
	go pr.recycle(pick, why)
}

// recycle replaces p: a new worker for its slot on the same version, ready
// before p drains. If the slot moved on meanwhile (a roll replaced p), the
// new worker is drained instead.
func (pr *Primary) recycle(p *proc, reason string) {
	ok := false
	defer func() {
		pr.do(func() {
			pr.ops.recycle.busy = false
			if !ok {
				pr.ops.recycle.retryAt = time.Now().Add(10 * time.Second)
			}
		})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), pr.opts.StartTimeout)
	defer cancel()
	go func() {
		select {
		case <-pr.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	np, err := pr.startWorker(ctx, p.id, p.spec)
	if err != nil {
		pr.log.Error("recycle: replacement did not start; the worker keeps serving", keyWorker, p.id, keyErr, err)
		return
	}
	pr.do(func() {
		for _, s := range pr.slots {
			if s.id == p.id && s.cur == p {
				s.cur, s.spec = np, np.spec
				pr.drainProc(p, reason)
				if pr.ops.recycle.recycled == nil {
					pr.ops.recycle.recycled = map[string]uint64{}
				}
				pr.ops.recycle.recycled[reason]++
				ok = true
				return
			}
		}
		pr.drainProc(np, "recycle superseded")
	})
	if !ok {
		return
	}
	select {
	case <-p.exited:
	case <-pr.quit:
	}
}
