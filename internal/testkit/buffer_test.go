package testkit

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestBufferConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				fmt.Fprintf(&b, "writer %d line %d\n", i, j)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}

// Lines split across writes, or several in one write, come out whole.
func TestLineWriter(t *testing.T) {
	var lines []string
	w := &lineWriter{onLine: func(l []byte) { lines = append(lines, string(l)) }}
	for _, p := range []string{"a", "b\nc\n", "", "d\ne", "\n", "tail"} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if got := strings.Join(lines, "|"); got != "ab|c|d|e" {
		t.Errorf("lines %q, want ab|c|d|e", got)
	}
}
