package config

import (
	"strconv"
	"strings"
)

// TLSConfig is the [tls] section: TLS termination on the listener.
// Several pairs (chosen by the client's SNI name) are comma-separated
// lists, the Nth certificate going with the Nth key; the first pair is
// served to clients whose name matches none.
type TLSConfig struct {
	Cert string `toml:"cert" help:"PEM certificate file (leaf first, then its chain) to terminate TLS with; several, comma-separated, are chosen by SNI (the first is the default); watched and reloaded while serving; empty serves plain HTTP"`
	Key  string `toml:"key" help:"PEM private key file of tls.cert; comma-separated in the same order when tls.cert lists several"`
}

// Files is the pairs of the [tls] section, in order; none without TLS.
func (t TLSConfig) Files() (certs, keys []string) {
	return splitList(t.Cert), splitList(t.Key)
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// validateTLS checks the [tls] section, upstream_ca and h2c.
func (c Config) validateTLS(errs *fieldErrors) {
	bad := errs.bad
	certs, keys := c.TLS.Files()
	switch {
	case len(certs) > 0 && len(keys) == 0:
		bad("tls.key", c.TLS.Key, "tls.cert is set: name its private key file too")
	case len(keys) > 0 && len(certs) == 0:
		bad("tls.cert", c.TLS.Cert, "tls.key is set: name its certificate file too")
	case len(certs) != len(keys):
		bad("tls.key", c.TLS.Key, "%d key files for %d certificate files (tls.cert): the Nth key goes with the Nth certificate", len(keys), len(certs))
	}
	if c.H2C && len(certs) > 0 {
		bad("h2c", strconv.FormatBool(c.H2C), "h2c is HTTP/2 without TLS; with tls.cert set the listener speaks TLS only, where HTTP/2 is negotiated by ALPN: remove h2c")
	}
	if c.UpstreamCA != "" {
		if u := c.UpstreamURL(); u == nil || u.Scheme != "https" {
			bad("upstream_ca", c.UpstreamCA, "only an https upstream uses it; upstream is %q", c.Upstream)
		}
	}
}
