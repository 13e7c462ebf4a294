#!/usr/bin/env bash
# Edit-to-served time of the dev loop: `wasmcluster new` a Go and a C
# plugin, `wasmcluster serve DIR --workers 1`, then five times: change the
# greeting in the source and time from the save to the first response with
# the new text (debounce, build, snapshot, preflight, roll).
# Run from the repository root; needs go, clang (wasi-libc), curl.
set -eu
o=$(mktemp -d); go build -o $o/wasmcluster ./cmd/wasmcluster
cd $o
now() { date +%s%N; }
for spec in go:main.go c:plugin.c; do
  IFS=: read -r lang file <<<"$spec"
  ./wasmcluster new dev-$lang --lang $lang >/dev/null
  ./wasmcluster serve ./dev-$lang --listen 127.0.0.1:18280 --workers 1 --log-level error --control - --admin off --cache-dir $o/cache & p=$!
  until curl -sf -o /dev/null 127.0.0.1:18280/; do sleep 0.05; done
  times=""
  for i in 1 2 3 4 5; do
    sed -i "s/hello[a-z0-9 ]* from/hello v$i from/" dev-$lang/$file; t0=$(now)
    until curl -s 127.0.0.1:18280/ | grep -q "hello v$i from"; do sleep 0.01; done; t1=$(now)
    times="$times $(((t1 - t0) / 1000000))"
  done
  echo "$lang edit-to-served (ms):$times"
  kill $p; wait $p || true
done
rm -rf $o
