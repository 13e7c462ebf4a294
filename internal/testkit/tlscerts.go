package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority made for one test: it signs leaf
// certificates (TLS server pairs) that clients trust through Pool.
type CA struct {
	Cert    *x509.Certificate
	PEM     []byte // the CA certificate, PEM (what upstream_ca or curl --cacert take)
	key     *ecdsa.PrivateKey
	serials atomic.Int64
}

// NewCA makes a fresh CA (ECDSA P-256, valid for a day).
func NewCA(tb testing.TB) *CA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("testkit: CA key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wasmcluster test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("testkit: CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("testkit: CA certificate: %v", err)
	}
	ca := &CA{Cert: cert, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: key}
	ca.serials.Store(100)
	return ca
}

// Pool is a cert pool holding only the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// ClientConfig is a TLS client configuration trusting only the CA, offering
// the given ALPN protocols (none: Go's defaults).
func (ca *CA) ClientConfig(alpn ...string) *tls.Config {
	return &tls.Config{RootCAs: ca.Pool(), NextProtos: alpn}
}

// Leaf is one signed server pair as PEM.
type Leaf struct {
	Serial   *big.Int
	CertPEM  []byte
	KeyPEM   []byte
	CertFile string // set by WriteLeaf
	KeyFile  string
}

// Leaf signs a server certificate for names (DNS names or IP addresses;
// none means "localhost" and 127.0.0.1), with a fresh serial number.
func (ca *CA) Leaf(tb testing.TB, names ...string) Leaf {
	tb.Helper()
	if len(names) == 0 {
		names = []string{"localhost", "127.0.0.1", "::1"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("testkit: leaf key: %v", err)
	}
	serial := big.NewInt(ca.serials.Add(1))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		tb.Fatalf("testkit: leaf certificate: %v", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatalf("testkit: leaf key: %v", err)
	}
	return Leaf{
		Serial:  serial,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
	}
}

// WriteLeaf signs a pair for names and writes it as dir/NAME.pem and
// dir/NAME.key (mode 0600), replacing files already there by renaming new
// ones over them, as certificate tools do.
func (ca *CA) WriteLeaf(tb testing.TB, dir, name string, names ...string) Leaf {
	tb.Helper()
	l := ca.Leaf(tb, names...)
	l.CertFile, l.KeyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	WriteAtomic(tb, l.CertFile, l.CertPEM)
	WriteAtomic(tb, l.KeyFile, l.KeyPEM)
	return l
}

// WriteAtomic writes data to a temporary file beside path and renames it
// over path (mode 0600).
func WriteAtomic(tb testing.TB, path string, data []byte) {
	tb.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}

// TLSServing is the serial number of the certificate a TLS server at addr
// presents to a new connection for serverName ("" sends no SNI), trusting
// ca, or the handshake's error.
func TLSServing(ca *CA, addr, serverName string) (*big.Int, error) {
	cfg := ca.ClientConfig()
	cfg.ServerName = serverName
	if serverName == "" {
		host, _, _ := net.SplitHostPort(addr)
		cfg.ServerName = host
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber, nil
}
