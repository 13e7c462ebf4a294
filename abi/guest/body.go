package guest

import (
	"io"

	"github.com/wasmcluster/wasmcluster/abi"
)

// Body streams the request body, or in a response hook next's response
// body, from the host. Each Read is one read_body call straight into the
// caller's buffer, so a body of any size passes through a fixed buffer.
type Body struct {
	kind abi.BodyKind
	eof  bool
}

// Read implements io.Reader.
func (b *Body) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		r := abi.EOFLen(hostReadBody(uint32(b.kind), bytesPtr(p), uint32(len(p))))
		n := int(r.Len())
		if r.EOF() {
			b.eof = true
			if n == 0 {
				return 0, io.EOF
			}
		}
		if n > 0 {
			return n, nil
		}
	}
}

// chunk is the copy buffer of WriteTo, reused across requests.
var chunk []byte

// chunkSize bounds the memory WriteTo uses whatever the body size.
const chunkSize = 32 << 10

// WriteTo implements io.WriterTo: it copies the rest of the body to w
// through one reused 32 KiB buffer, so io.Copy(w, r.Body()) does not
// allocate.
func (b *Body) WriteTo(w io.Writer) (int64, error) {
	if chunk == nil {
		chunk = make([]byte, chunkSize)
	}
	var total int64
	for {
		n, err := b.Read(chunk)
		if n > 0 {
			m, werr := w.Write(chunk[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
