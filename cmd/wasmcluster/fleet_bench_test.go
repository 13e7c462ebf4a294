package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// BenchmarkFleetPublish3: publish to three instances (2 workers each, each
// with its own cache directory, so each compiles the module itself as a
// machine of its own would) of a NATS JetStream server on loopback. Per
// publish: publish-s is the publish command (process start, the check,
// the upload); new-s is from its exit (the upload done) until every
// instance answers the new version on 5 requests in a row on fresh
// connections; fetch-s, accept-s and roll-s are the slowest instance's
// "fleet: new version published" (fetched), "plugin accepted" (compiled
// and checked; check-s is the longest check itself) and "roll finished"
// log records, from the same start;
// view-s is when the fleet view (the reports) shows every instance on it.
// wat is a WAT plugin (compiles in about a millisecond), go the Go version
// guest (bench/guests/version, ~2 MB), a new build for every publish.
//
//	CI=true go test ./cmd/wasmcluster -run '^$' -bench FleetPublish3 -benchtime 5x
//
// go-1-instance is the same with one instance: what each machine sees when
// it compiles alone, not sharing this box's 2 cores with two others.
func BenchmarkFleetPublish3(b *testing.B) {
	wat := func(b *testing.B) func(string) []byte {
		return func(v string) []byte { return testkit.HelloWAT(b, "version "+v+"\n") }
	}
	goGuest := func(b *testing.B) func(string) []byte {
		return func(v string) []byte {
			return testkit.GoWasm(b, "../../bench/guests/version", "-ldflags=-s -w -X main.version="+v)
		}
	}
	b.Run("wat", func(b *testing.B) { benchFleetPublish(b, 3, wat(b)) })
	b.Run("go", func(b *testing.B) { benchFleetPublish(b, 3, goGuest(b)) })
	b.Run("go-1-instance", func(b *testing.B) { benchFleetPublish(b, 1, goGuest(b)) })
}

// fleetTimes are one publish's times, from the upload (new-s and the log
// records) or from the command's start (publish-s).
type fleetTimes struct {
	publish, fetch, check, accept, roll, view, served time.Duration
	up                                                time.Time // publish exited
}

func benchFleetPublish(b *testing.B, instances int, build func(v string) []byte) {
	n := newNATS(b)
	n.start(b)
	flags := fleetFlags(b)
	run := fmt.Sprint(time.Now().UnixNano()) // a version no cache has seen
	benchPublish(b, build(run+"-0"), n.source(), flags)
	var ss []*testkit.Server
	for range instances {
		args := append([]string{"serve", "--log-format", "json", n.source(), "--listen", "127.0.0.1:0", "--workers", "2",
			"--control", "-", "--cache-dir", b.TempDir()}, flags...)
		cmd := exec.Command(bin(b), args...)
		cmd.Env = testkit.Env(b)
		ss = append(ss, testkit.Start(b, cmd))
	}
	conn := benchConn(b, n.source())
	var sum fleetTimes
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		b.StopTimer()
		v := fmt.Sprintf("%s-%d", run, i)
		wasm := build(v)
		marks := make([]int, len(ss))
		for j, s := range ss {
			marks[j] = len(s.Log.String())
		}
		b.StartTimer()
		t := publishAndWait(b, conn, ss, wasm, v, flags)
		b.StopTimer()
		t.fetch, t.check, t.accept, t.roll = logTimes(ss, marks, t.up)
		b.Logf("publish %d: publish %v | from the upload: fetched %v, accepted %v (the check took %v), rolled %v, all serve it %v, fleet view %v",
			i, t.publish.Round(time.Millisecond), t.fetch.Round(time.Millisecond), t.accept.Round(time.Millisecond), t.check.Round(time.Millisecond),
			t.roll.Round(time.Millisecond), t.served.Round(time.Millisecond), t.view.Round(time.Millisecond))
		sum.publish += t.publish
		sum.fetch += t.fetch
		sum.accept += t.accept
		sum.check += t.check
		sum.roll += t.roll
		sum.served += t.served
		sum.view += t.view
	}
	for _, m := range []struct {
		d    time.Duration
		unit string
	}{{sum.publish, "publish-s"}, {sum.fetch, "fetch-s"}, {sum.check, "check-s"}, {sum.accept, "accept-s"}, {sum.roll, "roll-s"}, {sum.served, "new-s"}, {sum.view, "view-s"}} {
		b.ReportMetric(m.d.Seconds()/float64(b.N), m.unit)
	}
}

// publishAndWait publishes wasm (answering "version v") and waits until
// every instance serves it and the fleet view shows it.
func publishAndWait(b *testing.B, conn *fleet.Conn, ss []*testkit.Server, wasm []byte, v string, flags []string) fleetTimes {
	var t fleetTimes
	t0 := time.Now()
	hash := benchPublish(b, wasm, conn.Src.String(), flags)
	up := time.Now()
	t.publish, t.up = up.Sub(t0), up
	var wg sync.WaitGroup
	served := make([]time.Time, len(ss))
	for j, s := range ss {
		wg.Go(func() { served[j] = allNew(b, s.URL(), "version "+v+"\n") })
	}
	for {
		if reps, err := conn.Fleet(context.Background()); err == nil && len(reps) == len(ss) && fleet.Runs(reps, hash) {
			t.view = time.Since(up)
			break
		}
		if time.Since(up) > time.Minute {
			b.Fatalf("fleet view not on %s within a minute", hash[:12])
		}
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	for _, at := range served {
		t.served = max(t.served, at.Sub(up))
	}
	return t
}

// benchPublish runs `wasmcluster publish` and returns the version.
func benchPublish(b *testing.B, wasm []byte, src string, flags []string) string {
	file := testkit.TempFile(b, "v.wasm", wasm)
	cmd := exec.Command(bin(b), append([]string{"publish", file, src}, flags...)...)
	cmd.Env = testkit.Env(b)
	out, errOut, code := testkit.Run(b, cmd)
	if code != 0 {
		b.Fatalf("publish: exit %d: %s", code, errOut)
	}
	return strings.TrimSpace(out)
}

func benchConn(b *testing.B, source string) *fleet.Conn {
	src, err := fleet.ParseSource(source)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := fleet.Dial(src, fleet.Auth{Token: fleetToken})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(conn.Close)
	return conn
}

// allNew polls url every 5 ms on fresh connections and returns when the
// first of 5 answers in a row of want came.
func allNew(b *testing.B, url, want string) time.Time {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var first time.Time
	streak := 0
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		at := time.Now()
		resp, err := c.Get(url)
		if err != nil {
			streak = 0
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			streak = 0
			continue
		}
		if streak == 0 {
			first = at
		}
		if streak++; streak == 5 {
			return first
		}
	}
	b.Errorf("%s does not answer %q within a minute", url, want)
	return time.Now()
}

// logTimes are the slowest instance's fetched, accepted and rolled
// records logged after marks, as durations from up, and the longest check
// (compile and preflight: the accepted record's took).
func logTimes(ss []*testkit.Server, marks []int, up time.Time) (fetch, check, accept, roll time.Duration) {
	var latest [3]time.Time
	for j, s := range ss {
		for line := range strings.SplitSeq(s.Log.String()[marks[j]:], "\n") {
			var rec struct {
				Time time.Time
				Msg  string
				Took time.Duration
			}
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			for k, msg := range []string{"fleet: new version published", "plugin accepted", "roll finished"} {
				if rec.Msg == msg && rec.Time.After(latest[k]) {
					latest[k] = rec.Time
				}
				if rec.Msg == "plugin accepted" {
					check = max(check, rec.Took)
				}
			}
		}
	}
	return latest[0].Sub(up), check, latest[1].Sub(up), latest[2].Sub(up)
}
