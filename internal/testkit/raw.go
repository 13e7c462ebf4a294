package testkit

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// RawStatus sends req, as it is, over a new TCP connection to addr and
// returns the status line of the answer, or "" if none came. The answer is
// read while req is still being written: a server may answer (and close)
// before it has read the whole request, as it does for a refused body,
// and a writer that waited would block on a full socket buffer.
func RawStatus(tb testing.TB, addr string, req ...string) string {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second)) // bounds a hung test only
	go func() {
		for _, s := range req {
			if _, err := io.WriteString(c, s); err != nil {
				return // the server closed early: expected for refused bodies
			}
		}
	}()
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line)
}
