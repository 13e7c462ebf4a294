package clientaddr

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tr, err := Parse([]string{"10.0.0.0/8", " 192.0.2.7 ", "fd00::/8", "::1", "::ffff:172.16.0.0/112"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"10.1.2.3": true, "11.0.0.1": false, "192.0.2.7": true, "192.0.2.8": false,
		"fd12::5": true, "fe80::1": false, "::1": true, "::ffff:10.9.9.9": true,
		"172.16.3.4": true, "172.17.0.1": false,
	} {
		if got := tr.Contains(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Contains(%s) = %v, want %v", addr, got, want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0.1/", "", "fe80::1%eth0"} {
		_, err := Parse([]string{"10.0.0.0/8", bad})
		if err == nil || !strings.Contains(err.Error(), `entry "`+bad+`"`) {
			t.Errorf("Parse(%q): %v, want an error naming the entry", bad, err)
		}
	}
	if !(Trusted{}).Empty() || tr.Empty() {
		t.Error("Empty")
	}
}

func TestResolve(t *testing.T) {
	tr, err := Parse([]string{"10.0.0.0/8", "2001:db8:1::/48"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, peer string
		h          http.Header
		tls        bool
		addr       string
		hops       string // comma-joined; "" for untrusted
		proto      string
	}{
		{"untrusted peer: headers ignored", "203.0.113.9:5000",
			http.Header{"X-Forwarded-For": {"1.1.1.1"}, "Forwarded": {"for=1.1.1.1;proto=https"}, "X-Forwarded-Proto": {"https"}},
			false, "203.0.113.9:5000", "", "http"},
		{"untrusted peer over TLS", "203.0.113.9:5000", nil, true, "203.0.113.9:5000", "", "https"},
		{"trusted peer without headers", "10.0.0.2:4000", nil, false, "10.0.0.2:4000", "10.0.0.2", "http"},
		{"trusted peer with XFF", "10.0.0.2:4000", http.Header{"X-Forwarded-For": {"198.51.100.7"}, "X-Forwarded-Proto": {"https"}},
			false, "198.51.100.7:0", "198.51.100.7,10.0.0.2", "https"},
		{"spoofed left part dropped: rightmost untrusted", "10.0.0.2:4000",
			http.Header{"X-Forwarded-For": {"6.6.6.6, 198.51.100.7", "10.3.3.3"}},
			false, "198.51.100.7:0", "198.51.100.7,10.3.3.3,10.0.0.2", "http"},
		{"all trusted: the leftmost", "10.0.0.2:4000", http.Header{"X-Forwarded-For": {"10.9.9.9, 10.3.3.3"}},
			false, "10.9.9.9:0", "10.9.9.9,10.3.3.3,10.0.0.2", "http"},
		{"garbage stops the walk", "10.0.0.2:4000", http.Header{"X-Forwarded-For": {"6.6.6.6, nonsense, 10.3.3.3"}},
			false, "10.3.3.3:0", "10.3.3.3,10.0.0.2", "http"},
		{"XFF with ports and bare IPv6", "10.0.0.2:4000", http.Header{"X-Forwarded-For": {"[2001:db8:2::5]:443, 2001:db8:1::9"}},
			false, "[2001:db8:2::5]:443", "2001:db8:2::5,2001:db8:1::9,10.0.0.2", "http"},
		{"Forwarded wins over XFF", "10.0.0.2:4000",
			http.Header{"Forwarded": {`for=192.0.2.60;proto=https;by=203.0.113.43`}, "X-Forwarded-For": {"1.1.1.1"}},
			false, "192.0.2.60:0", "192.0.2.60,10.0.0.2", "https"},
		{"Forwarded quoted IPv6 with port, several elements", "[2001:db8:1::1]:80",
			http.Header{"Forwarded": {`for=6.6.6.6;proto=https, for="[2001:db8:cafe::17]:4711";proto=https`, `For="10.1.1.1:99";proto=http`}},
			false, "[2001:db8:cafe::17]:4711", "2001:db8:cafe::17,10.1.1.1,2001:db8:1::1", "https"},
		{"Forwarded obfuscated node", "10.0.0.2:4000", http.Header{"Forwarded": {`for=_hidden, for=10.1.1.1`}},
			false, "10.1.1.1:0", "10.1.1.1,10.0.0.2", "http"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:4000", http.Header{"X-Forwarded-For": {"198.51.100.7"}},
			false, "198.51.100.7:0", "198.51.100.7,10.0.0.2", "http"},
		{"TLS listener overrides the header", "10.0.0.2:4000", http.Header{"X-Forwarded-Proto": {"http"}},
			true, "10.0.0.2:4000", "10.0.0.2", "https"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tr.Resolve(netip.MustParseAddrPort(tt.peer), tt.h, tt.tls)
			var hops []string
			for _, h := range c.Hops {
				hops = append(hops, h.String())
			}
			if c.Addr.String() != tt.addr || strings.Join(hops, ",") != tt.hops || c.Proto != tt.proto || c.Trusted() != (tt.hops != "") {
				t.Errorf("got %s hops %q proto %s; want %s hops %q proto %s", c.Addr, hops, c.Proto, tt.addr, tt.hops, tt.proto)
			}
		})
	}
}

func FuzzForwarded(f *testing.F) {
	f.Add(`for="[2001:db8::1]:80";proto=https, for=1.2.3.4`)
	f.Add(`for="\"`)
	tr, _ := Parse([]string{"0.0.0.0/0", "::/0"})
	f.Fuzz(func(t *testing.T, s string) {
		c := tr.Resolve(netip.MustParseAddrPort("10.0.0.1:1"), http.Header{"Forwarded": {s}, "X-Forwarded-For": {s}}, false)
		if !c.Addr.IsValid() || len(c.Hops) == 0 || c.Hops[len(c.Hops)-1] != netip.MustParseAddr("10.0.0.1") {
			t.Fatalf("Resolve(%q) = %+v", s, c)
		}
	})
}
