#!/usr/bin/env bash
# Cookie sessions on a shared store: wasmcluster serving examples/sessions
# on its embedded store (--workers 2; with the default plugin.pool_size and
# with --plugin-pool-size CONNS) against Koa + koa-session on Redis
# under node:cluster (bench/koa-sessions), plus a hello line (wasmcluster
# examples/hello vs Koa hello, bench/koa/server.js). wrk keeps one session
# cookie per connection (bench/sessions.lua, -tN -cN). Systems alternate
# run by run; each point reports req/s, p50, p99 and the server's CPU time
# per request (its process tree; Koa's includes redis-server). See
# BENCHMARKS.md.
#
#   bash bench/sessions.sh [--duration 5s] [--conns 16] [--rounds 3] [--workers 2]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
duration=5s conns=16 rounds=3 workers=2
while [ $# -gt 0 ]; do
	case "$1" in
	--duration) duration=$2; shift ;;
	--conns) conns=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--workers) workers=$2; shift ;;
	*) echo "sessions.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
for t in wrk wat2wasm node npm redis-server redis-cli curl; do
	command -v "$t" >/dev/null || { echo "sessions.sh: $t not found" >&2; exit 1; }
done
out=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$out"
}
trap cleanup EXIT

echo "sessions.sh: building into $out" >&2
go build -o "$out/wasmcluster" ./cmd/wasmcluster
for ex in sessions hello; do
	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags="-s -w" -o "$out/$ex.wasm" "./examples/$ex"
done
mkdir -p "$out/koa"
cp bench/koa-sessions/package.json bench/koa-sessions/package-lock.json bench/koa-sessions/server.js "$out/koa/"
cp bench/koa/server.js "$out/koa/hello.js"
(cd "$out/koa" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >/dev/null)

free_port() { # a loopback port nothing listens on now
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 20000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	echo "sessions.sh: no free port" >&2; exit 1
}
wait_http() { # url
	for _ in $(seq 150); do curl -fsS -o /dev/null "$1" 2>/dev/null && return; sleep 0.2; done
	echo "sessions.sh: $1 never answered" >&2; exit 1
}
declare -A addr pid
serve_wc() { # name wasm [flag...]: sets addr[name], pid[name] (not in $(): the server holds stdout)
	local name=$1 mod=$2; shift 2
	"$out/wasmcluster" serve "$out/$mod.wasm" "$@" --listen 127.0.0.1:0 --workers "$workers" --control - --admin off \
		--log-format json --kv-dir "$out/kv-$name" --cache-dir "$out/cache" >/dev/null 2>"$out/$name.log" &
	pids+=($!); pid[$name]=$!
	local a=
	for _ in $(seq 150); do
		a=$(grep -o '"msg":"serving","addr":"[^"]*"' "$out/$name.log" | sed 's/.*"addr":"//; s/"$//' || true)
		[ -n "$a" ] && break
		sleep 0.2
	done
	[ -n "$a" ] || { cat "$out/$name.log" >&2; exit 1; }
	addr[$name]=$a
}

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no >"$out/redis.log" 2>&1 </dev/null &
pids+=($!); redis_pid=$!
for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$rport" ping >/dev/null

serve_wc wc-sessions sessions
# The same with a pool as large as the connections: a request waiting on
# the store holds its instance, and past plugin.pool_size (default 2 x the
# worker's GOMAXPROCS) instances are created per request and closed after.
serve_wc wc-sessions-pool sessions --plugin-pool-size "$conns"
serve_wc wc-hello hello
kport=$(free_port)
(cd "$out/koa" && exec node server.js --listen "127.0.0.1:$kport" --redis "redis://127.0.0.1:$rport") >/dev/null 2>"$out/koa.log" &
pids+=($!); pid[koa-sessions]=$!; addr[koa-sessions]=127.0.0.1:$kport
hport=$(free_port)
(cd "$out/koa" && exec node hello.js --listen "127.0.0.1:$hport" --plugin hello-sdk) >/dev/null 2>"$out/koa-hello.log" &
pids+=($!); pid[koa-hello]=$!; addr[koa-hello]=127.0.0.1:$hport
for s in wc-sessions wc-sessions-pool wc-hello koa-sessions koa-hello; do wait_http "http://${addr[$s]}/"; done

tree_cpu_ticks() { # pid... -> utime+stime of each and its descendants
	ps -e -o pid=,ppid= | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
		{ parent[$1] = $2 }
		END { do { grew = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grew = 1 } } while (grew)
		      for (p in keep) print p }' |
		while read -r p; do cat "/proc/$p/stat" 2>/dev/null || true; done |
		awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}
measure() { # system -> one table row
	local s=$1 lua= roots=${pid[$1]}
	[[ $s == *sessions* ]] && lua="-s bench/sessions.lua"
	[[ $s == koa-sessions ]] && roots="$roots $redis_pid"
	local c0 c1 r
	c0=$(tree_cpu_ticks $roots)
	r=$(timeout 120 wrk -t"$conns" -c"$conns" -d"$duration" --latency $lua "http://${addr[$s]}/")
	c1=$(tree_cpu_ticks $roots)
	awk -v s="$s" -v c="$((c1 - c0))" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
		/Requests\/sec/ { rps = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
		/requests in/ { n = $1 } /Non-2xx/ { bad = $5 } /Socket errors/ { err = $0 }
		/^sessions:/ { sess = $0 }
		END { printf "| %s | %s | %s | %s | %.0f | %s | %s | %s |\n", s, rps, p50, p99, c * 1e4 / n, bad + 0, load, sess err }' <<<"$r"
}

echo "| system | req/s | p50 | p99 | CPU µs/req | non-2xx | load | check |"
echo "|---|---|---|---|---|---|---|---|"
for round in $(seq "$rounds"); do
	if [ $((round % 2)) = 1 ]; then order="wc-sessions koa-sessions wc-sessions-pool wc-hello koa-hello"
	else order="koa-sessions wc-sessions-pool wc-sessions koa-hello wc-hello"; fi
	for s in $order; do measure "$s"; done
done
