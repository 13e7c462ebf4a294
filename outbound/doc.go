// Package outbound is the policy and the HTTP client behind the
// wasmcluster.outbound_* host functions: what a plugin may reach, and how
// its calls go out.
//
// The model is deny by default. An operator grants targets with
// [outbound] allow, a list of entries of the form scheme://host[:port]:
//
//	https://api.example.com     one host, port 443 (the scheme's default)
//	http://10.0.0.5:8080        an IP literal and a port
//	https://*.example.com       any subdomain (not example.com itself)
//	http://127.0.0.1:*          any port
//	http://[::1]:8080           an IPv6 literal
//	http://10.0.0.0/8           a CIDR (IPv6: http://[fd00::/8]:443)
//	*                           everything (development only; logged)
//
// Parse turns the list into a Policy; a bad entry is an error naming
// outbound.allow and the entry.
//
// A target is checked three times, because each check alone can be
// bypassed: the URL the guest asked for (scheme, host, port), every
// redirect hop (a permitted server must not bounce the call to a refused
// one; at most MaxRedirects hops), and the address each connection is
// actually made to, resolved by the client itself and checked again in
// the dialer's Control hook on the socket's own address (so a name that
// resolves to another address than it did a moment ago, DNS rebinding,
// cannot reach past the list). Link-local addresses (169.254.0.0/16, where
// cloud metadata services live, and fe80::/10) and unspecified addresses
// are refused at that last step unless an entry lists them literally (an
// IP literal or a CIDR containing them), whatever names or wildcards
// allow.
//
// The guest never chooses the virtual host: a Host header it set is
// dropped, and the URL's host is sent.
//
// A Client is meant to be one per worker process: one pooled transport
// (keep-alive connections shared by every call), a cap on calls in flight
// (MaxConcurrent; a call past it waits for a slot, bounded by its
// context), no proxy from the environment (it would connect to an address
// the policy never saw). Response bodies stream; the host reading them
// applies the size cap.
package outbound
