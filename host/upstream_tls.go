package host

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// upstreamTLSHint says what to do about an upstream whose certificate
// failed verification; nothing for other errors.
func upstreamTLSHint(err error) []slog.Attr {
	var certErr *tls.CertificateVerificationError
	if !errors.As(err, &certErr) {
		return nil
	}
	return []slog.Attr{slog.String("hint", "the upstream's TLS certificate was not verified; if a private CA signed it, set upstream_ca to that CA's PEM file")}
}

// An https upstream's certificate is always verified: against the
// system's roots, plus Config.UpstreamCA when set. There is no switch to
// skip the check (RATIONALE.md).

// errNoUpstreamCA is an UpstreamCA without a single PEM certificate.
var errNoUpstreamCA = errors.New("upstream_ca holds no PEM certificate (want one or more -----BEGIN CERTIFICATE----- blocks)")

// upstreamRoots is the pool an https upstream's certificate must chain
// to: the system's roots and the certificates of ca.
func upstreamRoots(ca []byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool() // no system roots: ca alone
	}
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errNoUpstreamCA
	}
	return pool, nil
}

// checkUpstreamCA refuses a Config whose UpstreamCA cannot be used.
func (c Config) checkUpstreamCA() error {
	if len(c.UpstreamCA) == 0 {
		return nil
	}
	if _, err := upstreamRoots(c.UpstreamCA); err != nil {
		return fmt.Errorf("host config: %w", err)
	}
	return nil
}

// upstreamTransport is the proxy's transport: nil (http.DefaultTransport)
// without UpstreamCA, else a copy of it that also trusts UpstreamCA. A CA
// that does not parse (Load refuses it first) leaves the system's roots
// alone: trust is never widened by mistake.
func upstreamTransport(ca []byte, log *slog.Logger) http.RoundTripper {
	if len(ca) == 0 {
		return nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	roots, err := upstreamRoots(ca)
	if err != nil {
		log.Error("upstream_ca not used: the upstream must present a certificate the system trusts", slog.Any("err", err))
		return nil
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return tr
}
