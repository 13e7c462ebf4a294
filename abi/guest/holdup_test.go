package guest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// An SDK plugin tells the host, through the wasmcluster_response_wanted
// export, whether a response hook is registered: without one its instance
// serves other requests while next runs; with one it is held for the hook.
// The pool is pinned at one instance (MemoryBudget below one instance).
func TestResponseHookDecidesInstanceHold(t *testing.T) {
	for _, tc := range []struct {
		guest, path string
		held        bool
	}{
		{"testdata/tck", "/", false}, // no response hook
		{sdkGuest, "/next", true},    // HandleResponseFunc registered
	} {
		release := make(chan struct{})
		arrived := make(chan struct{}, 2)
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		srv, _ := serve(t, tc.guest, host.Config{Next: next, PoolSize: 1, MemoryBudget: 1, PoolWait: 200 * time.Millisecond})
		get := func() (int, error) {
			req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
			req.Header.Set("x-httpwasm-tck-testid", "set_method")
			resp, err := srv.Client().Do(req)
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}
		first := make(chan int, 1)
		go func() { c, _ := get(); first <- c }()
		<-arrived
		second := make(chan int, 1)
		go func() { c, _ := get(); second <- c }()
		if !tc.held {
			<-arrived // reached next while the first is still there
			close(release)
		}
		c2 := <-second
		if tc.held {
			close(release)
		}
		if tc.held && c2 != http.StatusServiceUnavailable || !tc.held && c2 != http.StatusOK {
			t.Errorf("%s: second request while the first is in next: %d (instance held: %v)", tc.guest, c2, tc.held)
		}
		if c := <-first; c != http.StatusOK {
			t.Errorf("%s: first request %d, want 200", tc.guest, c)
		}
	}
}
