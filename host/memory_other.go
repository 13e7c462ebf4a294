//go:build !linux

package host

import "context"

// memAllocator leaves linear memory to wazero (the Go heap) where mmap is
// not available.
type memAllocator struct{}

func newMemAllocator() *memAllocator { return nil }

func (a *memAllocator) context(ctx context.Context) context.Context { return ctx }

func (a *memAllocator) closeBegins() {}
