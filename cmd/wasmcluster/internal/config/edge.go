package config

import (
	"strings"

	"github.com/wasmcluster/wasmcluster/workers/clientaddr"
)

// validateEdge checks trusted_proxies and proxy_protocol.
func (c Config) validateEdge(errs *fieldErrors) {
	if _, err := clientaddr.Parse(c.TrustedProxies); err != nil {
		errs.bad("trusted_proxies", strings.Join(c.TrustedProxies, ","), "%v (want CIDR prefixes such as 10.0.0.0/8 or addresses such as 192.0.2.7)", err)
	}
	if c.ProxyProtocol && len(c.TrustedProxies) == 0 {
		errs.bad("proxy_protocol", "true", "needs trusted_proxies: the PROXY protocol is accepted only from trusted peers")
	}
}

// splitCommas lets a list whose entries never hold commas (addresses) be
// given comma-separated in one flag as well as by repeating it:
// --trusted-proxies 10.0.0.0/8,::1.
func splitCommas(list []string) []string {
	var out []string
	for _, e := range list {
		for _, part := range strings.Split(e, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
