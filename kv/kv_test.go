package kv_test

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/kv"
)

func TestErrorsCarryStatus(t *testing.T) {
	for _, tc := range []struct {
		err  *kv.Error
		want abi.Status
	}{
		{kv.ErrNotFound, abi.StatusNotFound}, {kv.ErrConflict, abi.StatusConflict},
		{kv.ErrTooLarge, abi.StatusTooLarge}, {kv.ErrUnavailable, abi.StatusUnavailable},
		{kv.ErrNotNumber, abi.StatusNotNumber}, {kv.ErrInvalid, abi.StatusInvalid},
		{kv.ErrOff, abi.StatusNotGranted},
	} {
		wrapped := fmt.Errorf("context: %w", tc.err)
		var se interface{ Status() abi.Status }
		if !errors.As(wrapped, &se) || se.Status() != tc.want {
			t.Errorf("%v: status not found through wrapping", tc.err)
		}
	}
	err := kv.Unavailable("nats: get", fmt.Errorf("dial: %w", errTimeout{}))
	if !errors.Is(err, kv.ErrUnavailable) || !errors.As(err, new(errTimeout)) || !strings.Contains(err.Error(), "nats: get") {
		t.Fatalf("Unavailable lost its parts: %v", err)
	}
}

type errTimeout struct{}

func (errTimeout) Error() string { return "timeout" }

func TestCheckKey(t *testing.T) {
	if err := kv.CheckKey(nil); !errors.Is(err, kv.ErrInvalid) {
		t.Errorf("empty key: %v", err)
	}
	if err := kv.CheckKey(make([]byte, kv.MaxKey)); err != nil {
		t.Errorf("256-byte key: %v", err)
	}
	if err := kv.CheckKey(make([]byte, kv.MaxKey+1)); !errors.Is(err, kv.ErrTooLarge) || !strings.Contains(err.Error(), "257") {
		t.Errorf("257-byte key: %v", err)
	}
	if err := kv.CheckValue(make([]byte, 11), 10); !errors.Is(err, kv.ErrTooLarge) || !strings.Contains(err.Error(), "kv.max_value") {
		t.Errorf("value over the limit: %v", err)
	}
	if n, err := kv.CheckList(nil, nil, kv.MaxPage*2); err != nil || n != kv.MaxPage {
		t.Errorf("CheckList(2×MaxPage) = %d, %v", n, err)
	}
}

func TestParseInt(t *testing.T) {
	good := []int64{0, 1, -1, 42, math.MaxInt64, math.MinInt64, 1000000}
	for _, n := range good {
		s := strconv.FormatInt(n, 10)
		if got, err := kv.ParseInt([]byte(s)); err != nil || got != n {
			t.Errorf("ParseInt(%q) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "-", "+1", " 1", "1 ", "01", "-0", "1.0", "1e3", "0x1",
		"9223372036854775808", "-9223372036854775809", "99999999999999999999"} {
		if _, err := kv.ParseInt([]byte(s)); !errors.Is(err, kv.ErrNotNumber) {
			t.Errorf("ParseInt(%q) = %v, want ErrNotNumber", s, err)
		}
	}
}

// FuzzParseInt: ParseInt accepts exactly strconv.FormatInt's output.
func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-1", "+1", "007", "9223372036854775807", "-9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := kv.ParseInt([]byte(s))
		m, serr := strconv.ParseInt(s, 10, 64)
		canonical := serr == nil && strconv.FormatInt(m, 10) == s
		if (err == nil) != canonical || (err == nil && n != m) {
			t.Fatalf("ParseInt(%q) = %d, %v; strconv: %d, %v", s, n, err, m, serr)
		}
	})
}

func TestAddInt64(t *testing.T) {
	if _, err := kv.AddInt64(math.MaxInt64, 1); !errors.Is(err, kv.ErrNotNumber) {
		t.Errorf("MaxInt64+1: %v", err)
	}
	if _, err := kv.AddInt64(math.MinInt64, -1); !errors.Is(err, kv.ErrNotNumber) {
		t.Errorf("MinInt64-1: %v", err)
	}
	if n, err := kv.AddInt64(-5, 7); err != nil || n != 2 {
		t.Errorf("-5+7 = %d, %v", n, err)
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "")
	t.Setenv("XDG_STATE_HOME", "/state")
	c := kv.Config{}.WithDefaults()
	want := kv.Config{URL: "embedded", Dir: filepath.Join("/state", "wasmcluster", "kv"), Bucket: "wasmcluster",
		Replicas: 1, MaxValue: 1 << 20, Timeout: 3 * time.Second}
	if c != want {
		t.Fatalf("defaults = %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STATE_DIRECTORY", "/var/lib/wasmcluster:/other")
	if d := kv.DefaultDir(); d != "/var/lib/wasmcluster/kv" {
		t.Fatalf("DefaultDir under systemd = %q", d)
	}
}

func TestConfigValidate(t *testing.T) {
	base := kv.Config{}.WithDefaults()
	for _, tc := range []struct {
		edit func(*kv.Config)
		want string
	}{
		{func(c *kv.Config) { c.Replicas = 2 }, "kv.replicas = 2"},
		{func(c *kv.Config) { c.MaxValue = kv.MaxMaxValue + 1 }, "kv.max_value = 67108865"},
		{func(c *kv.Config) { c.Timeout = -time.Second }, "kv.timeout = -1s"},
		{func(c *kv.Config) { c.Timeout = 2 * time.Minute }, "kv.timeout = 2m0s"},
		{func(c *kv.Config) { c.Bucket = "has.dot" }, `kv.bucket = "has.dot"`},
		{func(c *kv.Config) { c.URL = "http://x" }, `kv.url = "http://x"`},
		{func(c *kv.Config) { c.URL = "nats://a:4222,redis://b" }, `kv.url = "nats://a:4222,redis://b"`},
		{func(c *kv.Config) { c.URL = "nats://" }, `kv.url = "nats://"`},
	} {
		c := base
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", c, err, tc.want)
		}
	}
	for _, u := range []string{"embedded", "off", "nats://a:4222", "nats://a:4222, nats://b:4222", "tls://a:4222", "redis://h:6379/2", "rediss://h"} {
		c := base
		c.URL = u
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(url %q) = %v", u, err)
		}
	}
}

// The host's view of the store is Store's first six methods: a Store is a
// host.KV (kv itself must not import host).
var _ host.KV = kv.Store(nil)

func TestConfigLogHidesSecrets(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("kv", "config", kv.Config{URL: "redis://user:pw1@h:6379,nats://u:pw2@b:4222", Token: "tok3n"})
	for _, secret := range []string{"pw1", "pw2", "tok3n"} {
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("log shows %q: %s", secret, buf.String())
		}
	}
	if !strings.Contains(buf.String(), "h:6379") {
		t.Fatalf("log lost the host: %s", buf.String())
	}
}
