package natskv

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/embedded"
)

// TestResend plays the cases of a write whose first copy got no answer:
// the first copy is published here, then resend settles it as publish
// would after a lost reply.
func TestResend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedded.Start(ctx, embedded.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	s, err := Open(ctx, srv.WorkerConfig(kv.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := []byte("k")
	subj := s.pre + encodeKey(key)
	rev, err := s.Set(ctx, key, []byte("0"), 0)
	if err != nil {
		t.Fatal(err)
	}
	firstCopy := func(value string, expect *uint64) (*pending, uint64) {
		p := newPending(subj, []byte(value), time.Time{}, expect)
		ack, err := s.js.PublishMsg(ctx, p.msg, p.opts...)
		if err != nil {
			t.Fatal(err)
		}
		return p, ack.Sequence
	}
	check := func(what string, got uint64, err error, wantRev uint64, wantValue string) {
		t.Helper()
		v, r, gerr := s.Get(ctx, key)
		if err != nil || got != wantRev || gerr != nil || r != wantRev || string(v) != wantValue {
			t.Fatalf("%s: resend = %d, %v; Get = %q rev %d, %v; want rev %d value %q", what, got, err, v, r, gerr, wantRev, wantValue)
		}
	}

	// Applied, reply lost: the key carries our id; no second write.
	p, seq := firstCopy("1", &rev)
	got, err := s.resend(ctx, p)
	check("conditional, applied", got, err, seq, "1")

	// Not applied: the key is still at the expected revision; sent again.
	p = newPending(subj, []byte("2"), time.Time{}, &seq)
	got, err = s.resend(ctx, p)
	check("conditional, not applied", got, err, seq+1, "2")

	// Applied, then overwritten: unknown, never a conflict.
	cur := seq + 1
	p, _ = firstCopy("3", &cur)
	other, err := s.Set(ctx, key, []byte("other"), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.resend(ctx, p)
	if !errors.Is(err, kv.ErrUnavailable) || errors.Is(err, kv.ErrConflict) {
		t.Fatalf("conditional, overwritten: %v, want ErrUnavailable and not ErrConflict", err)
	}

	// Unconditional, applied: the duplicate window answers with the first
	// copy's revision.
	p, seq = firstCopy("4", nil)
	got, err = s.resend(ctx, p)
	check("unconditional, applied", got, err, seq, "4")
	if seq <= other {
		t.Fatalf("revisions went backwards: %d after %d", seq, other)
	}
}
