#!/usr/bin/env bash
# One-command benchmark: native Go vs the reference http-wasm host vs Koa
# under node:cluster vs wasmcluster (--workers cores, 1, 0), on loopback with
# wrk: req/s, latency and the server's CPU time per request. See BENCHMARKS.md.
#
#   bash bench/run.sh                 # full run (~15 min on 2 cores)
#   bash bench/run.sh --quick         # harness check for CI (seconds; numbers meaningless)
#   bash bench/run.sh --duration 10s --conns 1,16,64,256 --out /tmp/bench-out
#
# Options: --quick, --duration D (per point, default 5s), --conns LIST,
# --plugins LIST (hello-wat,hello-raw,hello-sdk,echo), --systems LIST
# (native,refhost,koa,wc-cores,wc-nointr,wc-1,wc-0), --out DIR (default
# bench/out), --rounds N (rounds per point, median kept; default 1), --timeout
# D (whole run bound, default 40m), --ab-bin PATH [--ab-label TEXT] (also
# measure another wasmcluster binary, e.g. a candidate fix, as system wc-ab).
# System koa runs `npm ci` (bench/koa's package-lock.json) in the out dir.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

quick=0
duration=5s
conns=1,16,64,256
plugins=hello-wat,hello-raw,hello-sdk,echo
systems=native,refhost,koa,wc-cores,wc-nointr,wc-1,wc-0
out=$root/bench/out
rounds=1
ab_bin=
ab_label="wasmcluster A/B build"
timeout_all=40m
command_line="bash bench/run.sh$(printf " %q" "$@")"
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--duration) duration=$2; shift ;;
	--conns) conns=$2; shift ;;
	--plugins) plugins=$2; shift ;;
	--systems) systems=$2; shift ;;
	--out) out=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--ab-bin) ab_bin=$2; shift ;;
	--ab-label) ab_label=$2; shift ;;
	--timeout) timeout_all=$2; shift ;;
	-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

need_apt() { # command package
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "run.sh: installing $2 (for $1) from Debian" >&2
	if [ "$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi
	$sudo apt-get update -qq >/dev/null || true
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
	command -v "$1" >/dev/null 2>&1 || { echo "run.sh: $1 still missing after installing $2" >&2; exit 1; }
}
need_apt wrk wrk
need_apt wat2wasm wabt
if [[ ",$systems," == *,koa,* ]]; then
	need_apt node nodejs
	need_apt npm npm
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$out/bin
wasm=$out/wasm
mkdir -p "$bin" "$wasm"

echo "run.sh: building binaries into $bin" >&2
go build -o "$bin/wasmcluster" ./cmd/wasmcluster
go build -o "$bin/native" ./bench/cmd/native
go build -o "$bin/refhost" ./bench/cmd/refhost
go build -o "$bin/benchrun" ./bench/cmd/benchrun

echo "run.sh: building plugins into $wasm" >&2
wat2wasm bench/guests/hello.wat -o "$wasm/hello-wat.wasm"
for v in 1 2; do
	sed "s/version v1/version v$v/" bench/guests/version.wat >"$out/version-v$v.wat"
	wat2wasm "$out/version-v$v.wat" -o "$wasm/version-wat-v$v.wasm"
done
gowasm() { # out pkg [ldflags]
	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags="-s -w ${3:-}" -o "$1" "$2"
}
if [ "$quick" = 0 ]; then
	gowasm "$wasm/hello-sdk.wasm" ./examples/hello
	gowasm "$wasm/hello-raw.wasm" ./abi/guest/testdata/raw
	gowasm "$wasm/echo.wasm" ./bench/guests/echo
fi

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit+uncommitted changes"
args=(-bin "$bin" -wasm "$wasm" -out "$out" -command "$command_line" -commit "$commit")
if [[ ",$systems," == *,koa,* ]]; then
	# The seed's stack, installed from the committed lock file (no global
	# installs), outside the source tree.
	echo "run.sh: npm ci for Koa into $out/koa" >&2
	mkdir -p "$out/koa"
	cp bench/koa/package.json bench/koa/package-lock.json bench/koa/server.js "$out/koa/"
	(cd "$out/koa" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	args+=(-koa "$out/koa")
fi
if [ "$quick" = 1 ]; then
	# Harness check: every system and measurement kind once, briefly, with
	# the WAT guest only (no Go guest to compile).
	args+=(-quick -duration 1s -warmup 0s -conns 1,4 -plugins hello-wat
		-systems "$systems" -cold-runs 1 -swap-runs 1 -swap-wait 3s -mem-conns 4 -inst-mem=false)
	swap_kinds=wat
else
	gowasm "$wasm/version-go-v1.wasm" ./bench/guests/version "-X main.version=v1"
	gowasm "$wasm/version-go-v2.wasm" ./bench/guests/version "-X main.version=v2"
	args+=(-duration "$duration" -conns "$conns" -plugins "$plugins" -systems "$systems" -rounds "$rounds")
	swap_kinds=wat,go
fi
args+=(-swap-kinds "$swap_kinds")
if [ -n "$ab_bin" ]; then
	args+=(-ab-bin "$ab_bin" -ab-label "$ab_label")
	[[ "$systems" == *wc-ab* ]] || args+=(-systems "$systems,wc-ab")
fi

echo "run.sh: measuring (bounded by $timeout_all)" >&2
status=0
timeout --signal=INT --kill-after=30s "$timeout_all" "$bin/benchrun" "${args[@]}" || status=$?
echo "run.sh: results in $out/results.md, $out/results.json, $out/chart.png" >&2
[ -f "$out/results.md" ] && cat "$out/results.md"
exit $status
