//go:build linux

package host

import (
	"context"
	"sync/atomic"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// Linear memory outside the Go heap. wazero's default grows a guest's
// memory by appending to a Go slice: every memory.grow copies the whole
// memory into new pages. A Go guest grows four times during _initialize,
// and in a fresh worker every new page is a page fault (~13 µs on this VM),
// so each instance cost 20–40 ms. Here each memory reserves its maximum
// once (address space only, MAP_NORESERVE) and grows in place; pages are
// faulted in only when the guest touches them.

// memAllocator hands out mmap-backed linear memories for one plugin.
type memAllocator struct {
	// closing is set by Plugin.Close before it closes the runtime, which
	// frees the memory of instances whose requests may still run: their
	// pages are given back but the addresses stay mapped, so a running
	// guest reads zeros instead of faulting the process.
	closing atomic.Bool
}

func newMemAllocator() *memAllocator { return &memAllocator{} }

// context makes instances created with ctx use a.
func (a *memAllocator) context(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, a)
}

// closeBegins: from now on, freed memories stay mapped (see closing).
func (a *memAllocator) closeBegins() { a.closing.Store(true) }

func (a *memAllocator) Allocate(capBytes, maxBytes uint64) experimental.LinearMemory {
	size := (maxBytes + uint64(syscall.Getpagesize()) - 1) &^ (uint64(syscall.Getpagesize()) - 1)
	if size == 0 || size > 1<<40 {
		return &heapMemory{max: maxBytes}
	}
	b, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return &heapMemory{max: maxBytes} // e.g. strict overcommit: the Go heap still works
	}
	return &mmapMemory{a: a, mapped: b, max: maxBytes}
}

type mmapMemory struct {
	a      *memAllocator
	mapped []byte
	max    uint64
}

func (m *mmapMemory) Reallocate(size uint64) []byte {
	if m.mapped == nil || size > m.max {
		return nil
	}
	return m.mapped[:size:size]
}

func (m *mmapMemory) Free() {
	if m.mapped == nil {
		return
	}
	if m.a.closing.Load() {
		_ = syscall.Madvise(m.mapped, syscall.MADV_DONTNEED)
	} else {
		_ = syscall.Munmap(m.mapped)
	}
	m.mapped = nil
}

// heapMemory is the fallback: a Go slice grown geometrically.
type heapMemory struct {
	buf []byte
	max uint64
}

func (m *heapMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	b := make([]byte, size, min(max(size, 2*uint64(cap(m.buf))), m.max))
	copy(b, m.buf)
	m.buf = b
	return b
}

func (m *heapMemory) Free() { m.buf = nil }
