package balance

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// New makes the shared table: a memfd of tableSize bytes, mapped. The
// file is what the primary hands each worker.
func New() (*Board, *os.File, error) {
	fd, err := unix.MemfdCreate("wasmcluster-balance", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("balance table: memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "balance")
	if err := f.Truncate(tableSize); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("balance table: size: %w", err)
	}
	b, err := mapTable(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return b, f, nil
}

// Open maps the table a primary made, from the descriptor a worker
// inherited.
func Open(f *os.File) (*Board, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("balance table: %w", err)
	}
	if st.Size() != tableSize {
		return nil, fmt.Errorf("balance table: %d bytes, want %d", st.Size(), tableSize)
	}
	return mapTable(f)
}

func mapTable(f *os.File) (*Board, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, tableSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("balance table: mmap: %w", err)
	}
	return &Board{mem: mem}, nil
}
