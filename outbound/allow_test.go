package outbound

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func mustParse(t *testing.T, entries ...string) *Policy {
	t.Helper()
	p, err := Parse(entries)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckURL(t *testing.T) {
	p := mustParse(t,
		"https://api.example.com",
		"http://10.0.0.5:8080",
		"https://*.example.org",
		"http://127.0.0.1:*",
		"http://[::1]:8080",
		"http://192.168.0.0/16",
		"https://[fd00::/8]:8443",
		"HTTP://Upper.Example.NET/",
	)
	tests := []struct {
		url   string
		allow bool
	}{
		{"https://api.example.com/v1/x?q=1", true},
		{"https://api.example.com:443/", true},   // the default port, spelled out
		{"https://API.example.com./", true},      // case and a trailing dot
		{"https://api.example.com:8443/", false}, // another port
		{"http://api.example.com/", false},       // another scheme
		{"https://evil.api.example.com/", false}, // not a wildcard entry
		{"https://example.com.evil.net/", false},
		{"http://10.0.0.5:8080/", true},
		{"http://10.0.0.5/", false}, // port 80, not 8080
		{"http://10.0.0.6:8080/", false},
		{"https://a.example.org/", true},
		{"https://a.b.example.org/", true},
		{"https://example.org/", false}, // the apex is not a subdomain
		{"https://badexample.org/", false},
		{"http://127.0.0.1:1/", true},
		{"http://127.0.0.1:65535/", true},
		{"https://127.0.0.1:1/", false},
		{"http://127.0.0.2:1/", false},
		{"http://[::1]:8080/", true},
		{"http://[::1]:8081/", false},
		{"http://[::ffff:127.0.0.1]:9/", true}, // IPv4-mapped is the IPv4 address
		{"http://192.168.44.3/", true},
		{"http://192.169.0.1/", false},
		{"https://[fd12::1]:8443/", true},
		{"https://[fe00::1]:8443/", false},
		{"http://upper.example.net/", true},
		{"http://localhost:3000/", false}, // a name is not the IP it resolves to
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.url)
		err := p.CheckURL(u)
		if (err == nil) != tt.allow {
			t.Errorf("%s: err = %v, want allowed=%v", tt.url, err, tt.allow)
		}
		var d *DeniedError
		if err != nil && (!errors.As(err, &d) || !strings.Contains(err.Error(), "outbound.allow")) {
			t.Errorf("%s: error %q is not a DeniedError naming outbound.allow", tt.url, err)
		}
	}
}

func TestDeniedMessageNamesOrigin(t *testing.T) {
	u, _ := url.Parse("http://user:secret@127.0.0.1:3000/data?x=1")
	err := mustParse(t).CheckURL(u)
	if err == nil || err.Error() != "http://user:secret@127.0.0.1:3000 is not in outbound.allow" &&
		err.Error() != "http://127.0.0.1:3000 is not in outbound.allow" {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("message leaks user info: %v", err)
	}
}

func TestEmptyDeniesAll(t *testing.T) {
	for _, p := range []*Policy{nil, mustParse(t)} {
		u, _ := url.Parse("https://api.example.com/")
		if p.CheckURL(u) == nil || !p.Empty() {
			t.Errorf("%v allows with nothing granted", p)
		}
	}
}

func TestStarAllowsAllButLinkLocal(t *testing.T) {
	p := mustParse(t, "*")
	if !p.AllowsAll() {
		t.Fatal("AllowsAll = false")
	}
	for _, raw := range []string{"http://anything.test/", "https://10.1.2.3:9/", "http://[::1]:1/"} {
		u, _ := url.Parse(raw)
		if err := p.CheckURL(u); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
	for _, raw := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://0.0.0.0:80/",
		"http://[::ffff:169.254.169.254]/"} {
		u, _ := url.Parse(raw)
		if err := p.CheckURL(u); err == nil || !strings.Contains(err.Error(), "link-local") {
			t.Errorf("%s: err = %v, want refused as link-local", raw, err)
		}
	}
}

func TestLinkLocalOnlyWhenListedLiterally(t *testing.T) {
	wild := mustParse(t, "http://*:*")
	literal := mustParse(t, "http://169.254.169.254")
	cidr := mustParse(t, "http://[fe80::/10]:*")
	meta := netip.MustParseAddr("169.254.169.254")
	ll6 := netip.MustParseAddr("fe80::1")
	switch {
	case wild.AddrAllowed(meta), wild.AddrAllowed(ll6):
		t.Error("a wildcard entry allows a link-local address")
	case !literal.AddrAllowed(meta):
		t.Error("a literal entry does not allow its own address")
	case literal.AddrAllowed(netip.MustParseAddr("169.254.169.253")):
		t.Error("a literal entry allows its neighbour")
	case !cidr.AddrAllowed(ll6):
		t.Error("a CIDR entry does not allow an address inside it")
	case !wild.AddrAllowed(netip.MustParseAddr("10.0.0.1")):
		t.Error("an ordinary address is refused")
	}
	u, _ := url.Parse("http://169.254.169.254/latest")
	if err := literal.CheckURL(u); err != nil {
		t.Errorf("literal entry: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ entry, want string }{
		{"api.example.com", "want scheme://host[:port]"},
		{"ftp://x.example.com", `scheme "ftp"`},
		{"http://", "empty host"},
		{"http://x.example.com:0", `port "0"`},
		{"http://x.example.com:70000", `port "70000"`},
		{"http://x.example.com:http", `port "http"`},
		{"http://x.example.com/path", "no paths"},
		{"http://[::1", "missing ]"},
		{"http://[::1]x", "unexpected"},
		{"http://10.0.0.0/33", "CIDR"},
		{"http://*.", "not a DNS name"},
		{"http://a..b", "not a DNS name"},
		{"http://bad host", "not a DNS name"},
		{"http://[fe80::1%eth0]", "zones"},
	} {
		_, err := Parse([]string{"https://ok.example.com", tt.entry})
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Entry != tt.entry || !strings.Contains(err.Error(), tt.want) ||
			!strings.HasPrefix(err.Error(), "outbound.allow: entry ") {
			t.Errorf("Parse(%q) = %v, want an outbound.allow error about %q", tt.entry, err, tt.want)
		}
	}
}

func FuzzCheckURL(f *testing.F) {
	f.Add("https://*.example.com", "https://a.example.com/x")
	f.Add("http://10.0.0.0/8:*", "http://10.1.1.1:99/")
	f.Add("http://[::1]:8080", "http://[::1]:8080/")
	f.Fuzz(func(t *testing.T, entry, raw string) {
		p, err := Parse([]string{entry})
		if err != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		err = p.CheckURL(u) // must not panic
		if err == nil {
			if tg, terr := targetOf(u); terr != nil || (tg.addr.IsValid() && !p.AddrAllowed(tg.addr)) {
				t.Fatalf("%q allowed %q: %v", entry, raw, terr)
			}
		}
	})
}
