package main

import (
	"testing"
	"time"
)

const sampleWrk = `Running 1s test @ http://127.0.0.1:43197/
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   268.07us  705.33us  11.33ms   96.05%
    Req/Sec     7.83k   568.48     8.57k    70.00%
  Latency Distribution
     50%  137.00us
     75%  194.00us
     90%  286.00us
     99%    4.47ms
  15582 requests in 1.00s, 1.87MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  15565.43
Transfer/sec:      1.87MB
BENCHRUN {"requests":15582,"duration_us":1001073,"bytes":1963332,"connect":0,"read":1,"write":0,"status":3,"timeout":2,"p50":137,"p90":286,"p99":4470,"p999":11000,"max":11330}
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(sampleWrk)
	if err != nil {
		t.Fatal(err)
	}
	if r.RPS != 15565.43 || r.Requests != 15582 || r.P99 != 4470 || r.P999 != 11000 || r.Status != 3 || r.Errors() != 3 {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parseWrk("Requests/sec: 1\n"); err == nil {
		t.Error("output without the report line must fail")
	}
}

func TestWrkSecondsRoundsUp(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int64
	}{{0, 1}, {500 * time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2}, {5 * time.Second, 5}} {
		if got := wrkSeconds(tc.d); got != tc.want {
			t.Errorf("wrkSeconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func TestMemPoint(t *testing.T) {
	if got := memPoint([]int{1, 16, 64, 256}, 64); got != 64 {
		t.Errorf("got %d", got)
	}
	if got := memPoint([]int{1, 4}, 64); got != 4 {
		t.Errorf("got %d", got)
	}
	if got := memPoint([]int{128, 256}, 64); got != 128 {
		t.Errorf("got %d", got)
	}
}
