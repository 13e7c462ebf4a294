package fleet

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// resyncEvery is how often a Mirror checks, besides its watches, that it
// holds the version it should run. A watch's consumer lives on one NATS
// node: when that node dies the watch stays silent until the client
// notices the missing heartbeats and re-creates it, 15 s or more, during
// which a publish would not reach this instance.
const resyncEvery = 5 * time.Second

// resyncLoop runs resync every resyncEvery until ctx ends.
func (m *Mirror) resyncLoop(ctx context.Context) {
	t := time.NewTicker(resyncEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if m.conn.Connected() {
				m.resync(ctx)
			}
		}
	}
}

// resync reads the canary key and the followed object's digest (small
// reads, not the object) and fetches the object when its digest is not
// the version this instance holds. Errors wait for the next round.
func (m *Mirror) resync(ctx context.Context) {
	octx, cancel := m.conn.op(ctx)
	defer cancel()
	kvb, err := m.conn.kvBucket(octx, m.conn.Src.versionsBucket(), 0)
	if err != nil {
		return
	}
	e, err := kvb.Get(octx, m.conn.Src.canaryKey())
	switch {
	case err == nil:
		m.setCanary(e)
	case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
		m.mu.Lock()
		m.canary = nil
		m.mu.Unlock()
	default:
		return
	}
	info, err := m.conn.info(octx, m.followed())
	if err != nil || info.Deleted {
		return
	}
	// Against the version fetched last, not the file's: a version this
	// instance refused at start (and fell back from) is not fetched again.
	m.syncMu.Lock()
	have := m.fetched
	m.syncMu.Unlock()
	if have == "" {
		have = m.current()
	}
	if digestHex(info) == have {
		return
	}
	m.log.Info("fleet: the published version is not the one fetched last (a watch lost with its NATS node, or a publish just now); fetching it", "source", m.conn.Src.String(), "object", info.Name)
	m.sync(ctx)
}
