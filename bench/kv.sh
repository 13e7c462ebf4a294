#!/usr/bin/env bash
# Per-request cost of one shared-store call from a guest, through the
# binary: wasmcluster serve bench/guests/kv-ops.wat on the embedded store,
# wrk --latency per op (none, get, set, incr). See BENCHMARKS.md.
#
#   bash bench/kv.sh [--workers N] [--duration 5s] [--conns 16]
set -euo pipefail
cd "$(dirname "$0")/.."
workers=2 duration=5s conns=16
while [ $# -gt 0 ]; do
	case "$1" in
	--workers) workers=$2; shift ;;
	--duration) duration=$2; shift ;;
	--conns) conns=$2; shift ;;
	*) echo "kv.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
out=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$out"' EXIT
go build -o "$out/wasmcluster" ./cmd/wasmcluster
wat2wasm bench/guests/kv-ops.wat -o "$out/kv-ops.wasm"
"$out/wasmcluster" serve "$out/kv-ops.wasm" --listen 127.0.0.1:0 --workers "$workers" --control - --admin off \
	--log-format json --kv-dir "$out/kv" --cache-dir "$out/cache" 2>"$out/log" &
pid=$!
for _ in $(seq 100); do
	addr=$(grep -o '"msg":"serving","addr":"[^"]*"' "$out/log" | sed 's/.*"addr":"//; s/"$//' || true)
	[ -n "$addr" ] && break
	sleep 0.2
done
[ -n "$addr" ] || { cat "$out/log"; exit 1; }
curl -fsS "http://$addr/s" >/dev/null # the key get reads
echo "| op | req/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
for op in none g s i; do
	r=$(wrk -t2 -c"$conns" -d"$duration" --latency "http://$addr/$op")
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$r")
	p50=$(awk '$1=="50%" {print $2}' <<<"$r")
	p99=$(awk '$1=="99%" {print $2}' <<<"$r")
	bad=$(awk '/Non-2xx/ {print $5}' <<<"$r")
	echo "| $op | $rps | $p50 | $p99 | ${bad:-0} |"
done
