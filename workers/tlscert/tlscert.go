package tlscert

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// Pair is a certificate file and its key file (PEM).
type Pair struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// PEM is a pair's content: the certificate chain and the private key.
type PEM struct {
	Cert []byte `json:"cert"`
	Key  []byte `json:"key"`
}

// FileError is a file of a pair that could not be read. Which is "cert" or
// "key", so a caller can name its own setting.
type FileError struct {
	Which string
	Path  string
	Err   error
}

func (e *FileError) Error() string {
	return fmt.Sprintf("%s file %s: %v", e.Which, e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// PairError is a pair whose content is not a usable certificate and key.
type PairError struct {
	Pair Pair
	Err  error
}

func (e *PairError) Error() string {
	return fmt.Sprintf("certificate %s with key %s: %v", e.Pair.Cert, e.Pair.Key, e.Err)
}

func (e *PairError) Unwrap() error { return e.Err }

// maxFile bounds a certificate or key file: a chain is a few KiB.
const maxFile = 1 << 20

// Read reads and checks every pair, in order.
func Read(pairs []Pair) ([]PEM, error) {
	if len(pairs) == 0 {
		return nil, errors.New("no certificate and key pair")
	}
	out := make([]PEM, len(pairs))
	for i, p := range pairs {
		cert, err := readFile("cert", p.Cert)
		if err != nil {
			return nil, err
		}
		key, err := readFile("key", p.Key)
		if err != nil {
			return nil, err
		}
		out[i] = PEM{Cert: cert, Key: key}
		if _, err := Parse(out[i]); err != nil {
			return nil, &PairError{Pair: p, Err: err}
		}
	}
	return out, nil
}

func readFile(which, path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err == nil && st.Size() > maxFile {
		err = fmt.Errorf("%d bytes; a certificate or key file is at most %d", st.Size(), maxFile)
	}
	var b []byte
	if err == nil {
		b, err = os.ReadFile(path)
	}
	if err == nil && len(strings.TrimSpace(string(b))) == 0 {
		err = errors.New("empty")
	}
	if err != nil {
		return nil, &FileError{Which: which, Path: path, Err: err}
	}
	return b, nil
}

// Parse checks p: the certificate and the key decode, the key is the
// certificate's, and the leaf parses. A leaf outside its validity period
// is accepted (clients will say so): refusing it could leave nothing to
// serve.
func Parse(p PEM) (tls.Certificate, error) {
	c, err := tls.X509KeyPair(p.Cert, p.Key) // checks that the key matches
	if err != nil {
		return tls.Certificate{}, err
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("parse leaf certificate: %w", err)
		}
	}
	return c, nil
}

// Describe is a short description of a set for logs and status: each
// leaf's subject, serial number and expiry.
func Describe(pems []PEM) []Info {
	out := make([]Info, 0, len(pems))
	for _, p := range pems {
		c, err := Parse(p)
		if err != nil {
			continue
		}
		out = append(out, infoOf(c.Leaf))
	}
	return out
}

// Info describes one serving certificate.
type Info struct {
	Subject  string    `json:"subject"`
	Names    []string  `json:"names,omitempty"`
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"not_after"`
}

func infoOf(l *x509.Certificate) Info {
	names := append([]string(nil), l.DNSNames...)
	for _, ip := range l.IPAddresses {
		names = append(names, ip.String())
	}
	return Info{Subject: l.Subject.CommonName, Names: names, Serial: serialText(l.SerialNumber), NotAfter: l.NotAfter}
}

func serialText(n *big.Int) string { return fmt.Sprintf("%x", n) }

// hash identifies a set's content, to tell a new set from the serving one.
func hash(pems []PEM) [32]byte {
	h := sha256.New()
	for _, p := range pems {
		fmt.Fprintf(h, "%d:%d:", len(p.Cert), len(p.Key))
		h.Write(p.Cert)
		h.Write(p.Key)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Store serves a set of certificates and lets it be replaced.
type Store struct {
	cur atomic.Pointer[[]tls.Certificate]
}

// NewStore returns a store serving pems.
func NewStore(pems []PEM) (*Store, error) {
	s := &Store{}
	if err := s.Set(pems); err != nil {
		return nil, err
	}
	return s, nil
}

// Set replaces the set; on error the serving set stays.
func (s *Store) Set(pems []PEM) error {
	if len(pems) == 0 {
		return errors.New("no certificate and key pair")
	}
	certs := make([]tls.Certificate, len(pems))
	for i, p := range pems {
		c, err := Parse(p)
		if err != nil {
			return fmt.Errorf("pair %d: %w", i+1, err)
		}
		certs[i] = c
	}
	s.cur.Store(&certs)
	return nil
}

// GetCertificate picks the first certificate the client supports (its SNI
// name, its signature algorithms), else the first one.
func (s *Store) GetCertificate(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
	certs := *s.cur.Load()
	if len(certs) > 1 {
		for i := range certs {
			if hi.SupportsCertificate(&certs[i]) == nil {
				return &certs[i], nil
			}
		}
	}
	return &certs[0], nil
}

// ServerConfig is the listener's TLS configuration: TLS 1.2 or later, ALPN
// h2 then http/1.1, the certificate from the store at every handshake.
func (s *Store) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: s.GetCertificate,
	}
}

// HasCertificate reports whether b holds at least one PEM certificate
// that parses (a CA file).
func HasCertificate(b []byte) bool {
	return x509.NewCertPool().AppendCertsFromPEM(b)
}
