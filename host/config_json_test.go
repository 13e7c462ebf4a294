package host_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// fullConfig sets every field of host.Config to a value other than its
// zero, so a field added later without a way through JSON fails
// TestConfigJSONRoundTrip until it has one (or is tagged json:"-").
func fullConfig(t *testing.T) host.Config {
	t.Helper()
	up, err := url.Parse("https://user:p%40ss@upstream.example:8443/base/path?q=1&r=%2F#frag")
	if err != nil {
		t.Fatal(err)
	}
	return host.Config{
		Name:                "plugin.wasm",
		CacheDir:            "/var/cache/wasmcluster",
		GuestConfig:         []byte("{\"k\":\"v\"}\x00\xff"),
		Upstream:            up,
		UpstreamCA:          []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
		Next:                http.NotFoundHandler(),
		PoolSize:            7,
		MemoryBudget:        512 << 20,
		PoolWait:            250 * time.Millisecond,
		PoolKeep:            45 * time.Second,
		RequestTimeout:      1500 * time.Millisecond,
		MaxRequestBody:      -1,
		MaxBufferedResponse: 3 << 20,
		MemoryLimitPages:    256,
		InitTimeout:         2 * time.Second,
		Logger:              slog.New(slog.DiscardHandler),
		Uninterruptible:     true,
		OnStuck:             func(time.Duration) {},
		Env:                 []host.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: ""}},
		Mounts:              []host.Mount{{HostDir: "/srv/t", GuestDir: "/t"}, {HostDir: "/srv/d", GuestDir: "/d", Writable: true}},
		Outbound:            noOutbound{},
		OutboundGrant: host.OutboundGrant{Allow: []string{"https://api.example.com", "http://127.0.0.1:*"},
			Timeout: 3 * time.Second, MaxResponseBody: 1 << 20, MaxConcurrent: 9},
		KV:         kvSentinel{},
		KVMaxValue: 2 << 20,
		KVTimeout:  750 * time.Millisecond,
	}
}

// noOutbound is a host.Outbound that refuses everything.
type noOutbound struct{}

func (noOutbound) Check(*http.Request) error                { return http.ErrNotSupported }
func (noOutbound) Do(*http.Request) (*http.Response, error) { return nil, http.ErrNotSupported }

// kvSentinel only marks Config.KV as set; it is never called.
type kvSentinel struct{ host.KV }

// notEncoded are the fields a process sets for itself.
var notEncoded = map[string]bool{"Logger": true, "Next": true, "OnStuck": true, "Outbound": true, "KV": true}

func TestConfigJSONRoundTrip(t *testing.T) {
	in := fullConfig(t)
	rv := reflect.ValueOf(in)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Fatalf("fullConfig leaves %s zero: set it, so the round trip covers it", rv.Type().Field(i).Name)
		}
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out host.Config
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	ov := reflect.ValueOf(out)
	for i := range rv.NumField() {
		name := rv.Type().Field(i).Name
		if notEncoded[name] {
			if !ov.Field(i).IsZero() {
				t.Errorf("%s came through JSON; it is the receiving process's to set", name)
			}
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), rv.Field(i).Interface()) {
			t.Errorf("%s: sent %v, received %v (JSON %s)", name, rv.Field(i), ov.Field(i), b)
		}
	}
	if got, want := out.Upstream.String(), in.Upstream.String(); got != want {
		t.Errorf("upstream %q, want %q", got, want)
	}
	if !strings.Contains(string(b), `"upstream":"https://user:p%40ss@upstream.example:8443/base/path?q=1\u0026r=%2F#frag"`) {
		t.Errorf("upstream is not encoded as its URL string: %s", b)
	}
}

// The zero Config encodes to {} (every field omitted) and decodes back to
// the zero Config: a worker with defaults gets defaults.
func TestConfigJSONZero(t *testing.T) {
	b, err := json.Marshal(host.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "{}" {
		t.Errorf("zero Config encodes to %s, want {}", b)
	}
	var out host.Config
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, host.Config{}) {
		t.Errorf("{} decodes to %+v", out)
	}
}

// Decoding sets only what the JSON holds, as encoding/json does for any
// struct: a Logger set before stays, and so does an Upstream the JSON does
// not mention.
func TestConfigJSONDecodeKeepsUnsent(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	up, _ := url.Parse("http://127.0.0.1:9")
	c := host.Config{Logger: log, Upstream: up, PoolSize: 3}
	if err := json.Unmarshal([]byte(`{"name":"x","pool_size":5}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.Logger != log || c.Upstream == nil || c.Upstream.String() != "http://127.0.0.1:9" || c.Name != "x" || c.PoolSize != 5 {
		t.Errorf("after decoding name and pool size: %+v", c)
	}
	if err := json.Unmarshal([]byte(`{"upstream":""}`), &c); err != nil || c.Upstream != nil {
		t.Errorf(`"upstream":"" left %v (err %v), want nil`, c.Upstream, err)
	}
}

func TestConfigJSONBadUpstream(t *testing.T) {
	var c host.Config
	err := json.Unmarshal([]byte(`{"upstream":"http://[::1"}`), &c)
	if err == nil || !strings.Contains(err.Error(), "upstream") {
		t.Fatalf("bad upstream URL: err %v, want one naming upstream", err)
	}
}
