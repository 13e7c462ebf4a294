#!/usr/bin/env bash
# HTTPS points: wasmcluster (--workers 1: TLS terminated in the worker) vs
# native Go net/http serving the same TLS (bench/cmd/native -tls-cert, one
# process), for the hello guests (hello-wat, hello-sdk), over HTTP/1.1
# keep-alive (wrk, 32 connections) and HTTP/2 (bench/cmd/h2load: 4
# connections x 8 streams), with plain HTTP/1.1 (no TLS, same wrk) beside
# them for the serving path's own ratio. Rounds alternate between the servers; prints
# req/s and the server's CPU per request (utime+stime of the server's
# process tree from /proc, the steadier figure on a shared box) and the
# ratios. ECDSA P-256 self-signed pair; clients negotiate TLS 1.3.
#
#   bash bench/https.sh [duration per point, default 5s] [rounds, default 2]
#
# Run from the repository root; needs go, wat2wasm, wrk and openssl.
set -eu
dur=${1:-5s}
rounds=${2:-2}
o=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$o"' EXIT
go build -o "$o/wasmcluster" ./cmd/wasmcluster
go build -o "$o/native" ./bench/cmd/native
go build -o "$o/h2load" ./bench/cmd/h2load
wat2wasm bench/guests/hello.wat -o "$o/hello-wat.wasm"
GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags="-s -w" -o "$o/hello-sdk.wasm" ./examples/hello
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$o/key.pem" -out "$o/cert.pem" \
	-days 1 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
tlsargs=(--tls-cert "$o/cert.pem" --tls-key "$o/key.pem")

ticks() { local t=0 p; for p in $1 $(pgrep -P "$1"); do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }

# point NAME PID URL PROTO: one measurement; prints "req/s us/req".
point() {
	local t0 t1 out n rps
	t0=$(ticks "$2")
	if [ "$4" = h1 ] || [ "$4" = plain ]; then
		out=$(wrk -t1 -c32 -d"$dur" "$3")
		n=$(awk '/requests in/{print $1}' <<<"$out")
		rps=$(awk '/Requests\/sec/{printf "%.0f", $2}' <<<"$out")
		grep -qE 'Non-2xx|Socket errors' <<<"$out" && echo "warning: $1 h1: $(grep -E 'Non-2xx|Socket errors' <<<"$out")" >&2
	else
		out=$("$o/h2load" -url "$3" -cacert "$o/cert.pem" -c 4 -m 8 -d "$dur")
		n=$(awk '{print $3}' <<<"$out")
		rps=$(awk '{print $9}' <<<"$out")
		[ "$(awk '{print $1}' <<<"$out")" = HTTP/2.0 ] || echo "warning: $1 h2 spoke $(awk '{print $1}' <<<"$out")" >&2
		[ "$(awk '{print $5}' <<<"$out")" = 0 ] || echo "warning: $1 h2: $(awk '{print $5}' <<<"$out") failed" >&2
	fi
	t1=$(ticks "$2")
	echo "$rps $(awk "BEGIN{printf \"%.1f\", ($t1-$t0)*10000/$n}")"
}

port=18440
for plugin in hello-wat hello-sdk; do
	port=$((port + 2))
	"$o/native" -listen 127.0.0.1:$port -plugin "$plugin" -tls-cert "$o/cert.pem" -tls-key "$o/key.pem" 2>/dev/null &
	nat=$!
	"$o/native" -listen 127.0.0.1:$((port + 50)) -plugin "$plugin" &
	natp=$!
	"$o/wasmcluster" serve "$o/$plugin.wasm" --listen 127.0.0.1:$((port + 1)) --workers 1 --log-level error \
		--control - --admin off --cache-dir "$o/cache" "${tlsargs[@]}" &
	wc=$!
	"$o/wasmcluster" serve "$o/$plugin.wasm" --listen 127.0.0.1:$((port + 51)) --workers 1 --log-level error \
		--control - --admin off --cache-dir "$o/cache" &
	wcp=$!
	for i in $(seq 120); do # a Go guest compiles first
		curl -sf --cacert "$o/cert.pem" -o /dev/null https://127.0.0.1:$((port + 1))/ &&
			curl -sf -o /dev/null http://127.0.0.1:$((port + 51))/ && break
		sleep 0.5
	done
	for proto in plain h1 h2; do
		for r in $(seq "$rounds"); do
			if [ $proto = plain ]; then
				read -r nrps ncpu <<<"$(point native $natp http://127.0.0.1:$((port + 50))/ $proto)"
				read -r wrps wcpu <<<"$(point wasmcluster $wcp http://127.0.0.1:$((port + 51))/ $proto)"
			else
				read -r nrps ncpu <<<"$(point native $nat https://127.0.0.1:$port/ $proto)"
				read -r wrps wcpu <<<"$(point wasmcluster $wc https://127.0.0.1:$((port + 1))/ $proto)"
			fi
			echo "$plugin $proto round $r: native $nrps req/s ${ncpu} us/req; wasmcluster $wrps req/s ${wcpu} us/req;" \
				"req/s ratio $(awk "BEGIN{printf \"%.2f\", $wrps/$nrps}"), CPU/req ratio native/wasmcluster $(awk "BEGIN{printf \"%.2f\", $ncpu/$wcpu}")"
		done
	done
	kill $nat $natp $wc $wcp
	wait $nat $natp $wc $wcp 2>/dev/null || true
done
