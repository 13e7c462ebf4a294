//go:build linux

package host

import (
	"runtime"
	"syscall"
)

// offHeap is a buffer mapped outside the Go heap (address space reserved
// with MAP_NORESERVE, pages faulted in as written). Released, its pages go
// back to the OS at once: a large buffer freed on the Go heap stays in the
// process until a GC finds it and the scavenger returns it, which on an
// idle worker can take minutes (RATIONALE.md, "Why hold large buffered
// responses outside the Go heap?").
type offHeap struct {
	mem     []byte
	cleanup runtime.Cleanup
}

// newOffHeap maps size bytes, or returns nil (e.g. strict overcommit) so
// the caller uses the Go heap.
func newOffHeap(size int) *offHeap {
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	o := &offHeap{mem: mem}
	// A request that fails before its response is sent drops its instance
	// with the buffer in it: the mapping goes when the GC finds it.
	o.cleanup = runtime.AddCleanup(o, func(m []byte) { _ = syscall.Munmap(m) }, mem)
	return o
}

// release unmaps the buffer; no slice of it may be used afterwards.
func (o *offHeap) release() {
	o.cleanup.Stop()
	_ = syscall.Munmap(o.mem)
	o.mem = nil
}
