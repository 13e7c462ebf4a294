package natskv_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/kv"
)

// TestDuplicateWindow checks the server behaviour natskv's resend is built
// on, on the bucket natskv sets up: the duplicate window is 2 × kv.timeout;
// an unconditional write sent again with the same message id is answered
// with the first copy's revision; a conditional one is refused as a
// conflict (the expected revision is checked before duplicates), which is
// why resend reads the key back instead.
func TestDuplicateWindow(t *testing.T) {
	n := startNode(t, newOptions(t, "solo", t.TempDir(), testkit.FreePort(t)))
	st := openStore(t, kv.Config{URL: n.url(), Token: token, Bucket: "dedupe", Timeout: 4 * time.Second})
	waitHealthy(t, st, 30*time.Second)
	ctx := context.Background()
	if _, err := st.Set(ctx, []byte("k"), []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(n.url(), nats.Token(token))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	info, err := js.Stream(ctx, "KV_dedupe")
	if err != nil {
		t.Fatal(err)
	}
	if d := info.CachedInfo().Config.Duplicates; d != 8*time.Second {
		t.Fatalf("duplicate window = %v, want 2 × kv.timeout = 8s", d)
	}
	send := func(id string, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
		m := nats.NewMsg("$KV.dedupe.6b") // the key "k"
		m.Data = []byte(id)
		return js.PublishMsg(ctx, m, append(opts, jetstream.WithMsgID(id))...)
	}
	first, err1 := send("plain")
	again, err2 := send("plain")
	if err1 != nil || err2 != nil || !again.Duplicate || again.Sequence != first.Sequence {
		t.Fatalf("unconditional resend: %+v, %v after %+v, %v; want a duplicate", again, err2, first, err1)
	}
	if _, err := send("cond", jetstream.WithExpectLastSequencePerSubject(first.Sequence)); err != nil {
		t.Fatal(err)
	}
	if _, err := send("cond", jetstream.WithExpectLastSequencePerSubject(first.Sequence)); err == nil {
		t.Fatal("a conditional resend was accepted; resend could rely on the duplicate window")
	}
}
