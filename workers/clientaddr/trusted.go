package clientaddr

import (
	"fmt"
	"net/netip"
	"strings"
)

// Trusted is a set of trusted proxies. The zero value trusts no one.
type Trusted struct {
	prefixes []netip.Prefix
}

// Parse builds a Trusted set from entries, each a CIDR prefix
// ("10.0.0.0/8", "fd00::/8") or a bare address ("192.0.2.7", "::1"). An
// invalid entry is an error naming it; the caller adds the key.
func Parse(entries []string) (Trusted, error) {
	var t Trusted
	for _, e := range entries {
		s := strings.TrimSpace(e)
		p, err := parsePrefix(s)
		if err != nil {
			return Trusted{}, fmt.Errorf("entry %q: %w", e, err)
		}
		t.prefixes = append(t.prefixes, p)
	}
	return t, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not a CIDR prefix such as 10.0.0.0/8 or fd00::/8")
		}
		if p.Addr().Is4In6() {
			// ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are unmapped
			// before they are checked.
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("an IPv4-mapped prefix shorter than /96")
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR prefix")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Empty reports whether t trusts no one.
func (t Trusted) Empty() bool { return len(t.prefixes) == 0 }

// Contains reports whether a is a trusted proxy. An IPv4-mapped IPv6
// address (a dual-stack listener's view of an IPv4 peer) counts as IPv4.
func (t Trusted) Contains(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// String lists t's prefixes, comma-separated.
func (t Trusted) String() string {
	s := make([]string, len(t.prefixes))
	for i, p := range t.prefixes {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
