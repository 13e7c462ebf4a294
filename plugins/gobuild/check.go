package gobuild

import (
	"errors"
	"fmt"
)

var (
	// ErrCommandModule is a Go module built without -buildmode=c-shared: its
	// _start runs main and exits, so it cannot serve.
	ErrCommandModule = errors.New("module was built as a command and exits after start; " +
		"rebuild with -buildmode=c-shared: `wasmcluster build PKG -o plugin.wasm` " +
		"(or GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared)")

	// ErrNoHandler is a module that does not export handle_request.
	ErrNoHandler = errors.New(`module does not export "handle_request", so it is not an http-wasm plugin; ` +
		"in Go, import github.com/wasmcluster/wasmcluster/abi/guest and call guest.HandleFunc in init()")
)

// Exports lists a module's export names and its custom section names. It
// reads only the section headers and the export section.
type Exports struct {
	Names  map[string]byte // export name -> kind (0 func, 1 table, 2 memory, 3 global)
	Custom []string        // custom section names, e.g. "go:buildid"
}

// CheckModule reports why wasm cannot serve as a plugin, or nil: it must
// export memory and handle_request, and a module from the Go toolchain must
// be a reactor (export _initialize).
func CheckModule(wasm []byte) error {
	ex, err := ReadExports(wasm)
	if err != nil {
		return err
	}
	if k, ok := ex.Names["handle_request"]; !ok || k != 0 {
		return ErrNoHandler
	}
	if k, ok := ex.Names["memory"]; !ok || k != 2 {
		return errors.New(`module does not export "memory"`)
	}
	_, init := ex.Names["_initialize"]
	if ex.IsGo() && !init {
		return ErrCommandModule
	}
	return nil
}

// IsGo reports whether the module was produced by the Go toolchain.
func (e Exports) IsGo() bool {
	for _, c := range e.Custom {
		if c == "go:buildid" {
			return true
		}
	}
	return false
}

// ReadExports parses the module header and sections of wasm far enough to
// list exports and custom sections.
func ReadExports(wasm []byte) (Exports, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return Exports{}, errors.New("not a WebAssembly module (bad magic)")
	}
	if string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return Exports{}, fmt.Errorf("unsupported WebAssembly version % x", wasm[4:8])
	}
	ex := Exports{Names: map[string]byte{}}
	r := reader{b: wasm[8:]}
	for len(r.b) > 0 {
		id, err := r.byte()
		if err != nil {
			return ex, err
		}
		size, err := r.u32()
		if err != nil {
			return ex, fmt.Errorf("section %d: %w", id, err)
		}
		body, err := r.bytes(size)
		if err != nil {
			return ex, fmt.Errorf("section %d: %w", id, err)
		}
		sr := reader{b: body}
		switch id {
		case 0:
			name, err := sr.name()
			if err != nil {
				return ex, fmt.Errorf("custom section: %w", err)
			}
			ex.Custom = append(ex.Custom, name)
		case 7:
			if err := readExportSection(&sr, ex.Names); err != nil {
				return ex, fmt.Errorf("export section: %w", err)
			}
		}
	}
	return ex, nil
}

func readExportSection(r *reader, names map[string]byte) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		name, err := r.name()
		if err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		if _, err := r.u32(); err != nil { // index
			return err
		}
		names[name] = kind
	}
	return nil
}

// reader decodes the LEB128 and length-prefixed parts of the binary format.
type reader struct{ b []byte }

var errTruncated = errors.New("truncated module")

func (r *reader) byte() (byte, error) {
	if len(r.b) == 0 {
		return 0, errTruncated
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *reader) u32() (uint32, error) {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("malformed LEB128 integer")
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(len(r.b)) {
		return nil, errTruncated
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b, nil
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	return string(b), err
}
