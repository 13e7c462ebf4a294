package workers

// Session tickets shared by every worker. A client that reconnects (a
// connection past max_conn_requests or max_conn_age, a browser coming
// back) lands on whichever worker accepts first; with each worker's own
// ticket keys (crypto/tls's default) it could only resume on the worker
// that issued its ticket, and pays a full handshake everywhere else. So
// the primary makes the keys and sends them with the certificates: every
// worker encrypts new tickets with the first and accepts all of them. As
// crypto/tls does with its own keys, a new key comes first every 24 hours
// and a key is dropped after 7 days, so a stolen key opens a week of
// resumed sessions at most. In-process there is one server: crypto/tls's
// own rotation applies.

import (
	"crypto/rand"
	"sync"
	"time"
)

const (
	ticketRotate = 24 * time.Hour // a new first key this often
	ticketKeep   = 7              // keys accepted: a week of them
)

// ticketKeys is the primary's session ticket keys, newest first.
type ticketKeys struct {
	mu   sync.Mutex
	keys [][32]byte
}

func newTicketKeys() *ticketKeys {
	k := &ticketKeys{}
	k.rotate()
	return k
}

// current is the keys, newest first.
func (k *ticketKeys) current() [][32]byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][32]byte(nil), k.keys...)
}

// rotate puts a new key first and drops those past ticketKeep.
func (k *ticketKeys) rotate() [][32]byte {
	var key [32]byte
	rand.Read(key[:]) // never fails (crypto/rand)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys = append([][32]byte{key}, k.keys...)
	if len(k.keys) > ticketKeep {
		k.keys = k.keys[:ticketKeep]
	}
	return append([][32]byte(nil), k.keys...)
}

// rotateTickets rotates the keys every ticketRotate and sends them to the
// workers, until stop is closed.
func (pr *Primary) rotateTickets(stop <-chan struct{}) {
	t := time.NewTicker(ticketRotate)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			keys := pr.tls.tickets.rotate()
			pr.broadcast(message{Type: msgTLS, TicketKeys: keys})
		}
	}
}

// broadcast sends m to every worker that has not exited.
func (pr *Primary) broadcast(m message) {
	pr.do(func() {
		for p := range pr.procs {
			if p.state != stateExited {
				p.ctrl.send(m)
			}
		}
	})
}
