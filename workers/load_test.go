package workers

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// workerLoad is testkit's strict load that also counts which worker
// (X-Worker-Pid) and which version (X-Version) answered.
type workerLoad struct {
	*testkit.Load
	mu   sync.Mutex
	pids map[string]int
	vers map[string]int
}

// startLoad POSTs to url from clients clients, on keep-alive connections
// unless keepAlive is false; every fourth client opens a connection per
// request regardless, so accepts go on during the test.
func startLoad(url string, clients int, keepAlive bool) *workerLoad {
	l := &workerLoad{pids: map[string]int{}, vers: map[string]int{}}
	l.Load = testkit.StartLoad(url, testkit.LoadOptions{
		Clients:     clients,
		NoKeepAlive: func(i int) bool { return !keepAlive || i%4 == 3 },
		Check: func(resp *http.Response, _ []byte, _ time.Time) string {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.pids[resp.Header.Get("X-Worker-Pid")]++
			l.vers[resp.Header.Get("X-Version")]++
			return ""
		},
	})
	return l
}

// servedBy is the number of good answers from version so far.
func (l *workerLoad) servedBy(version string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.vers[version]
}

// finish stops the load and returns its totals.
func (l *workerLoad) finish() loadResult {
	res := l.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	return loadResult{LoadResult: res, workers: len(l.pids), vers: maps.Clone(l.vers)}
}

// loadResult is what a workerLoad counted.
type loadResult struct {
	testkit.LoadResult
	workers int            // distinct workers that answered
	vers    map[string]int // good answers by version
}

// non2xx is the number of answers with a status other than 2xx.
func (r loadResult) non2xx() int {
	n := 0
	for class, c := range r.Failures {
		if strings.HasPrefix(class, "status ") {
			n += c
		}
	}
	return n
}

func (r loadResult) String() string {
	return fmt.Sprintf("%v workers=%d versions=%v", r.LoadResult, r.workers, r.vers)
}
