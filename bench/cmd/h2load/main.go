// Command h2load is the benchmark's HTTP/2 load client (wrk speaks
// HTTP/1.1 only): -c connections, each with -m concurrent streams, GET the
// URL for -d, and it prints the completed requests, the failures and the
// rate. With -h1 it speaks HTTPS/1.1 keep-alive instead (one request at a
// time per connection), for a like-for-like check of wrk's numbers.
//
//	h2load -url https://127.0.0.1:8443/ -cacert ca.pem -c 4 -m 16 -d 10s
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("h2load", flag.ContinueOnError)
	url := fs.String("url", "", "https URL to GET")
	caFile := fs.String("cacert", "", "PEM file of the CA (or the self-signed certificate) to trust")
	conns := fs.Int("c", 4, "connections")
	streams := fs.Int("m", 16, "concurrent requests per connection (HTTP/2 streams)")
	d := fs.Duration("d", 10*time.Second, "duration")
	h1 := fs.Bool("h1", false, "HTTPS/1.1 keep-alive instead of HTTP/2 (-m is then 1)")
	if err := fs.Parse(args); err != nil || *url == "" {
		fmt.Fprintln(os.Stderr, "h2load: -url is required")
		return 2
	}
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "h2load:", err)
		return 2
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	if *h1 {
		*streams = 1
	}
	probe := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: !*h1}}
	resp, err := probe.Get(*url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "h2load:", err)
		return 1
	}
	resp.Body.Close()
	var ok, failed atomic.Int64
	stop := time.Now().Add(*d)
	var wg sync.WaitGroup
	for range *conns {
		// One transport per connection: HTTP/2 multiplexes every stream
		// of a transport on one connection.
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: !*h1, MaxIdleConnsPerHost: *streams}
		c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		for range *streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					if get(c, *url) {
						ok.Add(1)
					} else {
						failed.Add(1)
					}
				}
			}()
		}
	}
	start := time.Now()
	wg.Wait()
	el := time.Since(start).Seconds()
	fmt.Printf("%s requests %d failed %d seconds %.2f req/s %.0f\n", resp.Proto, ok.Load(), failed.Load(), el, float64(ok.Load())/el)
	return 0
}

func get(c *http.Client, url string) bool {
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil && resp.StatusCode == http.StatusOK
}
