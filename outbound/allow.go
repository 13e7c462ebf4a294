package outbound

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Setting is the configuration key of the allow-list, named in errors.
const Setting = "outbound.allow"

// AnyPort in a rule matches every port.
const AnyPort = -1

// rule is one allow-list entry.
type rule struct {
	scheme string       // "http" or "https"
	host   string       // a lowercase DNS name; "" for an IP rule or any host
	suffix bool         // host is a wildcard suffix: "*.example.com" -> ".example.com"
	anyH   bool         // "*" as the host: every host of the scheme
	prefix netip.Prefix // valid for an IP literal (/32, /128) or a CIDR
	port   int          // a port, or AnyPort
}

// Policy is a parsed allow-list. The zero Policy refuses everything.
type Policy struct {
	rules []rule
	all   bool // "*": everything
}

// AllowsAll reports whether the list has "*", which allows every target
// (the server logs a warning at start).
func (p *Policy) AllowsAll() bool { return p != nil && p.all }

// Empty reports whether nothing is allowed.
func (p *Policy) Empty() bool { return p == nil || (!p.all && len(p.rules) == 0) }

// ParseError is a bad allow-list entry.
type ParseError struct {
	Entry string
	Msg   string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s: entry %q: %s", Setting, e.Entry, e.Msg)
}

// Parse parses allow-list entries (see the package doc for their forms).
func Parse(entries []string) (*Policy, error) {
	p := &Policy{}
	for _, e := range entries {
		if strings.TrimSpace(e) == "*" {
			p.all = true
			continue
		}
		r, err := parseRule(e)
		if err != nil {
			return nil, &ParseError{Entry: e, Msg: err.Error()}
		}
		p.rules = append(p.rules, r)
	}
	return p, nil
}

func parseRule(e string) (rule, error) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(e), "://")
	if !ok {
		return rule{}, fmt.Errorf(`want scheme://host[:port], e.g. "https://api.example.com" or "http://127.0.0.1:*"`)
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return rule{}, fmt.Errorf("scheme %q: want http or https", scheme)
	}
	rest = strings.TrimSuffix(rest, "/")
	hostPart, portPart, err := splitHostPort(rest)
	if err != nil {
		return rule{}, err
	}
	r := rule{scheme: scheme}
	if r.port, err = parsePort(portPart, scheme); err != nil {
		return rule{}, err
	}
	if err := r.setHost(hostPart); err != nil {
		return rule{}, err
	}
	return r, nil
}

// splitHostPort splits "host[:port]", "[v6][:port]", "cidr[:port]".
func splitHostPort(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf("missing ] after an IPv6 address")
		}
		host, after := s[1:end], s[end+1:]
		if after == "" {
			return host, "", nil
		}
		if !strings.HasPrefix(after, ":") {
			return "", "", fmt.Errorf("unexpected %q after the host (no paths: scheme://host[:port])", after)
		}
		return host, after[1:], nil
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i], s[i+1:], nil
	}
	return s, "", nil
}

func parsePort(s, scheme string) (int, error) {
	switch s {
	case "":
		return defaultPort(scheme), nil
	case "*":
		return AnyPort, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q: want 1..65535 or *", s)
	}
	return n, nil
}

func defaultPort(scheme string) int {
	if scheme == "https" {
		return 443
	}
	return 80
}

func (r *rule) setHost(h string) error {
	if h == "" {
		return fmt.Errorf("empty host")
	}
	if h == "*" {
		r.anyH = true
		return nil
	}
	if ip, _, ok := strings.Cut(h, "/"); ok {
		if _, err := netip.ParseAddr(ip); err != nil {
			return fmt.Errorf("%q: no paths (want scheme://host[:port]) and a CIDR starts with an IP", h)
		}
		pfx, err := netip.ParsePrefix(h)
		if err != nil {
			return fmt.Errorf("CIDR %q: %v", h, err)
		}
		r.prefix = unmapPrefix(pfx.Masked())
		return nil
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("IP %q: zones are not supported", h)
		}
		a = a.Unmap()
		r.prefix = netip.PrefixFrom(a, a.BitLen())
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(h, "."))
	if strings.HasPrefix(name, "*.") {
		r.suffix, name = true, name[1:]
		if !validName(name[1:]) {
			return fmt.Errorf("host %q: not a DNS name after *.", h)
		}
		r.host = name
		return nil
	}
	if !validName(name) {
		return fmt.Errorf("host %q: not a DNS name, an IP, a CIDR, *.domain or *", h)
	}
	r.host = name
	return nil
}

func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// validName accepts letters, digits, '-', '_' and dots between non-empty
// labels.
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return false
			}
		}
	}
	return true
}

// target is what a rule is matched against.
type target struct {
	scheme string
	host   string     // lowercase name, "" for an IP
	addr   netip.Addr // valid for an IP host
	port   int
}

func targetOf(u *url.URL) (target, error) {
	t := target{scheme: strings.ToLower(u.Scheme)}
	if t.scheme != "http" && t.scheme != "https" {
		return t, fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	h := u.Hostname()
	if h == "" {
		return t, fmt.Errorf("no host")
	}
	t.port = defaultPort(t.scheme)
	if ps := u.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return t, fmt.Errorf("port %q: want 1..65535", ps)
		}
		t.port = n
	}
	if a, err := netip.ParseAddr(h); err == nil {
		t.addr = a.Unmap()
		return t, nil
	}
	t.host = strings.ToLower(strings.TrimSuffix(h, "."))
	return t, nil
}

func (r *rule) matches(t target) bool {
	if r.scheme != t.scheme || (r.port != AnyPort && r.port != t.port) {
		return false
	}
	switch {
	case r.anyH:
		return true
	case r.prefix.IsValid():
		return t.addr.IsValid() && r.prefix.Contains(t.addr)
	case t.host == "":
		return false
	case r.suffix:
		return strings.HasSuffix(t.host, r.host)
	default:
		return t.host == r.host
	}
}

// CheckURL reports whether the policy allows a call to u (its scheme, host
// and port); the error is a *DeniedError, or a *BadURLError.
func (p *Policy) CheckURL(u *url.URL) error {
	t, err := targetOf(u)
	if err != nil {
		return &BadURLError{URL: redact(u), Msg: err.Error()}
	}
	if t.addr.IsValid() && !p.AddrAllowed(t.addr) {
		return deniedAddr(u, t.addr)
	}
	if p.AllowsAll() {
		return nil
	}
	if p != nil {
		for i := range p.rules {
			if p.rules[i].matches(t) {
				return nil
			}
		}
	}
	return &DeniedError{URL: origin(u), Reason: "is not in " + Setting}
}

// refusedRanges are refused as connection addresses unless listed
// literally: link-local (cloud metadata lives at 169.254.169.254) and the
// unspecified addresses (which reach this machine).
var refusedRanges = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("0.0.0.0/32"),
	netip.MustParsePrefix("::/128"),
}

// AddrAllowed reports whether a connection may go to a: any address but
// the refused ranges, which only an IP literal or a CIDR entry containing
// them allows.
func (p *Policy) AddrAllowed(a netip.Addr) bool {
	a = a.Unmap()
	refused := false
	for _, r := range refusedRanges {
		if r.Contains(a) {
			refused = true
			break
		}
	}
	if !refused {
		return true
	}
	if p == nil {
		return false
	}
	for i := range p.rules {
		if pf := p.rules[i].prefix; pf.IsValid() && pf.Contains(a) {
			return true
		}
	}
	return false
}
