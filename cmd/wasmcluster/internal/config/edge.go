package config

import "github.com/wasmcluster/wasmcluster/workers/clientaddr"

// validateEdge checks trusted_proxies and proxy_protocol.
func (c Config) validateEdge(errs *fieldErrors) {
	if _, err := clientaddr.Parse(c.TrustedProxies.Items()); err != nil {
		errs.bad("trusted_proxies", string(c.TrustedProxies), "%v (want CIDR prefixes such as 10.0.0.0/8 or addresses such as 192.0.2.7)", err)
	}
	if c.ProxyProtocol && c.TrustedProxies == "" {
		errs.bad("proxy_protocol", "true", "needs trusted_proxies: the PROXY protocol is accepted only from trusted peers")
	}
}
