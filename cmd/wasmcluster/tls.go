package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/workers/control"
	"github.com/wasmcluster/wasmcluster/workers/tlscert"
)

// tlsPairs is the [tls] section as pairs, read and checked now so a bad
// file stops the start with the key and the path that is wrong (exit 1:
// the files are the problem, not the command line). The primary reads
// them again when it starts and watches them from then on.
func tlsPairs(cfg config.Config) ([]tlscert.Pair, error) {
	certs, keys := cfg.TLS.Files()
	if len(certs) == 0 {
		return nil, nil
	}
	pairs := make([]tlscert.Pair, len(certs))
	for i := range certs {
		pairs[i] = tlscert.Pair{Cert: certs[i], Key: keys[i]}
	}
	if _, err := tlscert.Read(pairs); err != nil {
		var fe *tlscert.FileError
		var pe *tlscert.PairError
		switch {
		case errors.As(err, &fe):
			err = &config.FieldError{Key: "tls." + fe.Which, Value: fe.Path, Msg: fe.Err.Error()}
		case errors.As(err, &pe):
			err = &config.FieldError{Key: "tls.cert", Value: pe.Pair.Cert,
				Msg: fmt.Sprintf("with key %s (tls.key): %v", pe.Pair.Key, pe.Err)}
		}
		return nil, runtimeError(err)
	}
	return pairs, nil
}

// upstreamCA is the content of upstream_ca, checked: nil when unset.
func upstreamCA(cfg config.Config) ([]byte, error) {
	if cfg.UpstreamCA == "" {
		return nil, nil
	}
	b, err := os.ReadFile(cfg.UpstreamCA)
	if err == nil && !tlscert.HasCertificate(b) {
		err = errors.New("no PEM certificate in it (want -----BEGIN CERTIFICATE----- blocks)")
	}
	if err != nil {
		return nil, runtimeError(&config.FieldError{Key: "upstream_ca", Value: cfg.UpstreamCA, Msg: err.Error()})
	}
	return b, nil
}

// printTLS adds the serving certificates and the last refused replacement
// to status's text.
func printTLS(w io.Writer, st *control.Status) {
	if st.TLS == nil {
		return
	}
	for _, c := range st.TLS.Certificates {
		fmt.Fprintf(w, "tls: %s (%s) serial %s, expires %s\n", c.Subject, strings.Join(c.Names, ", "), c.Serial,
			c.NotAfter.UTC().Format(time.DateOnly))
	}
	if r := st.TLS.LastRefused; r != nil {
		fmt.Fprintf(w, "tls: new certificate refused at %s, serving the one above: %s\n", r.At.UTC().Format(time.DateTime), r.Error)
	}
}
