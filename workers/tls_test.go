package workers

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/tlscert"
)

// tlsOptions is baseOptions serving TLS with a fresh pair in a temp dir.
func tlsOptions(t *testing.T, workers int) (PrimaryOptions, *testkit.CA, string, testkit.Leaf) {
	opts := baseOptions(t, workers)
	ca := testkit.NewCA(t)
	dir := t.TempDir()
	leaf := ca.WriteLeaf(t, dir, "site")
	opts.TLS = []tlscert.Pair{{Cert: leaf.CertFile, Key: leaf.KeyFile}}
	return opts, ca, dir, leaf
}

func servingSerial(t *testing.T, ca *testkit.CA, pr *Primary) string {
	t.Helper()
	n, err := testkit.TLSServing(ca, pr.Addr().String(), "")
	if err != nil {
		t.Fatal(err)
	}
	return n.String()
}

// A worker started after the pair changed (a roll here; a respawn or a
// recycle alike) serves the current pair from its hello, not the one the
// primary started with; status shows it.
func TestTLSNewWorkerGetsCurrentPair(t *testing.T) {
	opts, ca, dir, _ := tlsOptions(t, 1)
	pr := startPrimary(t, opts)
	next := ca.WriteLeaf(t, dir, "site")
	testkit.WaitFor(t, 15*time.Second, "the new pair served", func() bool { return servingSerial(t, ca, pr) == next.Serial.String() })
	if err := pr.Roll(t.Context(), testSpec("v2", testPluginConfig{})); err != nil {
		t.Fatal(err)
	}
	if got := servingSerial(t, ca, pr); got != next.Serial.String() {
		t.Errorf("after a roll: serial %s, want %s", got, next.Serial)
	}
	st := pr.Status()
	if st.TLS == nil || len(st.TLS.Certificates) != 1 || st.TLS.Certificates[0].Serial != strconv.FormatInt(next.Serial.Int64(), 16) {
		t.Errorf("status TLS: %+v", st.TLS)
	}
}

// The primary's own 503s, while no worker is ready, are served over TLS
// too: a client of a TLS listener never gets plain HTTP.
func TestUnavailableOverTLS(t *testing.T) {
	opts, ca, _, _ := tlsOptions(t, 1)
	opts.Spec = testSpec("bad", testPluginConfig{FailLoad: true})
	opts.Backoff = Backoff{Base: 3 * time.Second, Max: 3 * time.Second, CrashLoop: 1000}
	pr, _ := runPrimary(t, opts)
	testkit.WaitFor(t, time.Minute, "a failed worker", func() bool {
		st := pr.Status()
		return len(st.Workers) == 1 && st.Workers[0].Restarts >= 1
	})
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig()}, Timeout: 30 * time.Second}
	resp, err := c.Get("https://" + pr.Addr().String() + "/")
	if err != nil {
		t.Fatalf("request over TLS while no worker is ready: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("answer %s, want 503", resp.Status)
	}
}
