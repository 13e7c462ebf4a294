package workers

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// load is a strict load generator: every request carries a body without
// GetBody, so net/http never silently retries it (DESIGN.md §5), and every
// EOF, reset and refusal is counted.
type load struct {
	stop    atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	ok      int
	non2xx  int
	refused int
	errs    map[string]int
	pids    map[string]int
	vers    map[string]int
}

func startLoad(url string, clients int, keepAlive bool) *load {
	l := &load{errs: map[string]int{}, pids: map[string]int{}, vers: map[string]int{}}
	for i := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tr := &http.Transport{DisableKeepAlives: !keepAlive || i%4 == 3, MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			for !l.stop.Load() {
				l.one(c, url)
			}
		}()
	}
	return l
}

func (l *load) one(c *http.Client, url string) {
	body := io.NopCloser(strings.NewReader("ping")) // no GetBody: not replayable
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		panic(err)
	}
	resp, err := c.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		l.refused++
	case err != nil:
		l.errs[classify(err)]++
	case resp.StatusCode/100 != 2:
		l.non2xx++
	default:
		l.ok++
		l.pids[resp.Header.Get("X-Worker-Pid")]++
		l.vers[resp.Header.Get("X-Version")]++
		_ = b
	}
}

func classify(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	}
	return err.Error()
}

// finish stops the load and returns its totals.
func (l *load) finish() *load {
	l.stop.Store(true)
	l.wg.Wait()
	return l
}

func (l *load) failed() int {
	n := l.refused + l.non2xx
	for _, c := range l.errs {
		n += c
	}
	return n
}

func (l *load) String() string {
	return fmt.Sprintf("ok=%d failed=%d (refused=%d non2xx=%d errs=%v) workers=%d versions=%v",
		l.ok, l.failed(), l.refused, l.non2xx, l.errs, len(l.pids), l.vers)
}
