//go:build !linux

package systemd

// monotonicUsec is unknown off Linux; systemd only runs on Linux.
func monotonicUsec() int64 { return 0 }
