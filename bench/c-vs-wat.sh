#!/usr/bin/env bash
# C hello (examples/hello-c) vs WAT hello (bench/guests/hello.wat), both
# served with --workers 1 at once, wrk rounds alternating between them; prints
# req/s and the server's CPU per request (utime+stime of the primary and its
# worker from /proc, the steadier figure on a shared box).
# Run from the repository root; needs go, wat2wasm, clang (wasi-libc) and wrk.
set -eu
o=$(mktemp -d); go build -o $o/wasmcluster ./cmd/wasmcluster
wat2wasm bench/guests/hello.wat -o $o/wat.wasm
clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 -Wl,--strip-all -I abi/c -o $o/c.wasm examples/hello-c/hello.c
wc -c $o/wat.wasm $o/c.wasm
serve() { $o/wasmcluster serve $o/$1.wasm --listen 127.0.0.1:$2 --workers 1 --log-level error --control - --cache-dir $o/cache & }
serve wat 18081; w=$!; serve c 18082; c=$!
sleep 3; curl -s 127.0.0.1:18081/ 127.0.0.1:18082/
ticks() { local t=0; for p in $1 $(pgrep -P $1); do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
for r in 1 2; do for s in wat:18081:$w c:18082:$c; do
  IFS=: read -r name port pid <<<"$s"; t0=$(ticks $pid)
  out=$(wrk -t1 -c32 -d5s http://127.0.0.1:$port/); t1=$(ticks $pid)
  n=$(awk '/requests in/{print $1}' <<<"$out")
  echo "round $r $name: $(awk '/Requests\/sec/{print $2}' <<<"$out") req/s, $(awk "BEGIN{printf \"%.1f\", ($t1-$t0)*10000/$n}") us CPU/req ($n requests) $(grep -E 'Non-2xx|errors' <<<"$out" || true)"
done; done
kill $w $c; wait; rm -rf $o
