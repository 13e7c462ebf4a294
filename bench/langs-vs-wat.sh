#!/usr/bin/env bash
# hello in every guest language vs the WAT hello (bench/guests/hello.wat):
# each built from source with `wasmcluster build`, its size, its cold start
# (spawn to first 200 with an empty cache directory: compile included), then
# all served at once with --workers 1, wrk rounds alternating between them:
# req/s and the server's CPU per request (utime+stime of the primary and its
# worker from /proc, the steadier figure on a shared box).
# Run from the repository root; needs go, wat2wasm, clang (wasi-libc),
# Debian's rustc (libstd-rust-dev-wasm32), npm (warm cache or registry), wrk.
set -eu
o=$(mktemp -d); go build -o $o/wasmcluster ./cmd/wasmcluster
wc=$o/wasmcluster
mkdir -p $o/as/examples $o/as/abi
cp -r examples/hello-assemblyscript $o/as/examples/; cp -r abi/assemblyscript $o/as/abi/
rm -rf $o/as/examples/hello-assemblyscript/node_modules
(cd $o && $wc new go-raw --lang go >/dev/null)
wat2wasm bench/guests/hello.wat -o $o/wat.wasm
build() { $wc build $2 -o $o/$1.wasm --cache-dir $o/bcache | sed 's/^/  /'; }
build go examples/hello; build go-raw $o/go-raw; build c examples/hello-c; build rust examples/hello-rust
build as $o/as/examples/hello-assemblyscript
langs="wat go go-raw c rust as"
echo "size (bytes):"; for l in $langs; do printf '  %-7s %s\n' $l $(stat -c %s $o/$l.wasm); done
now() { date +%s%N; }
echo "cold start (spawn to first 200, empty cache, --workers 1):"
for l in $langs; do
  t0=$(now); $wc serve $o/$l.wasm --listen 127.0.0.1:18180 --workers 1 --log-level error --control - --admin off --cache-dir $o/cold-$l & p=$!
  until curl -sf -o /dev/null 127.0.0.1:18180/; do sleep 0.005; done; t1=$(now)
  printf '  %-7s %d ms\n' $l $(((t1 - t0) / 1000000)); kill $p; wait $p || true
done
port=18190; declare -A pid
for l in $langs; do
  $wc serve $o/$l.wasm --listen 127.0.0.1:$port --workers 1 --log-level error --control - --admin off --cache-dir $o/cache & pid[$l]=$!; port=$((port+1))
done
sleep 4
ticks() { local t=0; for p in $1 $(pgrep -P $1); do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
for r in $(seq ${ROUNDS:-2}); do port=18190; for l in $langs; do
  t0=$(ticks ${pid[$l]}); out=$(wrk -t1 -c32 -d5s http://127.0.0.1:$port/); t1=$(ticks ${pid[$l]})
  n=$(awk '/requests in/{print $1}' <<<"$out")
  echo "round $r $l: $(awk '/Requests\/sec/{print $2}' <<<"$out") req/s, $(awk "BEGIN{printf \"%.1f\", ($t1-$t0)*10000/$n}") us CPU/req ($n requests) $(grep -E 'Non-2xx|errors' <<<"$out" || true)"
  port=$((port+1))
done; done
kill ${pid[@]}; wait; rm -rf $o
