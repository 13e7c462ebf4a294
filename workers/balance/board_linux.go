package balance

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// New makes the shared table of slots slots: a memfd, mapped. The file is
// what the primary hands each worker.
func New(slots int) (*Board, *os.File, error) {
	if slots < 1 {
		return nil, nil, fmt.Errorf("balance table: %d slots", slots)
	}
	fd, err := unix.MemfdCreate("wasmcluster-balance", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("balance table: memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "balance")
	if err := f.Truncate(int64(slots * slotSize)); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("balance table: size: %w", err)
	}
	b, err := mapTable(f, slots)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	b.claimed = make([]bool, slots)
	return b, f, nil
}

// Open maps the table a primary made, from the descriptor a worker
// inherited.
func Open(f *os.File) (*Board, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("balance table: %w", err)
	}
	if st.Size() < slotSize || st.Size()%slotSize != 0 {
		return nil, fmt.Errorf("balance table: %d bytes, want a multiple of %d", st.Size(), slotSize)
	}
	return mapTable(f, int(st.Size()/slotSize))
}

func mapTable(f *os.File, slots int) (*Board, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, slots*slotSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("balance table: mmap: %w", err)
	}
	return &Board{mem: mem, n: slots}, nil
}
