//go:build !linux

package host

// offHeap is unavailable without mmap: large buffers use the Go heap.
type offHeap struct{ mem []byte }

func newOffHeap(int) *offHeap { return nil }

func (o *offHeap) release() {}
