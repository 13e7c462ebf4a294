package httpserve

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// frame builds a server-to-client WebSocket frame with n payload bytes.
func frame(n int, masked bool) []byte {
	b := []byte{0x82}
	m := byte(0)
	if masked {
		m = 0x80
	}
	switch {
	case n < 126:
		b = append(b, m|byte(n))
	case n < 1<<16:
		b = append(b, m|126, byte(n>>8), byte(n))
	default:
		b = append(b, m|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	if masked {
		b = append(b, 1, 2, 3, 4)
	}
	return append(b, bytes.Repeat([]byte{'x'}, n)...)
}

// The tracker finds frame boundaries however the stream is cut into
// writes: a close frame is never put inside a frame.
func TestFrameTracker(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for run := range 200 {
		var stream []byte
		var ends []int // offsets where a frame ends
		for range 1 + rng.IntN(6) {
			sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 70000}
			stream = append(stream, frame(sizes[rng.IntN(len(sizes))], rng.IntN(2) == 0)...)
			ends = append(ends, len(stream))
		}
		var f frameTracker
		off := 0
		for off < len(stream) {
			n := 1 + rng.IntN(min(len(stream)-off, 1+rng.IntN(300)))
			f.advance(stream[off : off+n])
			off += n
			want := false
			for _, e := range ends {
				want = want || e == off
			}
			if f.atBoundary() != want {
				t.Fatalf("run %d: at offset %d boundary=%v, want %v", run, off, f.atBoundary(), want)
			}
		}
	}
}
