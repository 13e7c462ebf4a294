#!/usr/bin/env bash
# Side-by-side server CPU per request of several commands, alternating run
# by run: each command is started in its own process group on its own port
# (PORT in the command is replaced), then for each round every system gets
# one wrk run; CPU is utime+stime of the command's whole process tree from
# /proc before and after, over the requests wrk completed. Prints one line
# per run and the medians. Used for the before/after tables in BENCHMARKS.md.
#
#   bash bench/cpu-ab.sh ROUNDS CONNS DURATION name='command with PORT' ...
#   bash bench/cpu-ab.sh 5 64 4s "native=bench/out/bin/native -listen 127.0.0.1:PORT -plugin hello-wat" \
#     "after=bench/out/bin/wasmcluster serve bench/out/wasm/hello-wat.wasm --listen 127.0.0.1:PORT --workers 2 --log-level warn"
set -eu
rounds=$1 conns=$2 dur=$3; shift 3
declare -A pid port
i=0
for spec in "$@"; do
	name=${spec%%=*}; cmd=${spec#*=}; p=$((18100 + i)); i=$((i + 1))
	setsid bash -c "exec ${cmd//PORT/$p}" >/dev/null 2>&1 &
	pid[$name]=$!; port[$name]=$p
done
trap 'for n in "${!pid[@]}"; do kill -TERM -- -${pid[$n]} 2>/dev/null || true; done' EXIT
sleep 4
# ticks: utime+stime (1/100 s) of a process and its descendants, not threads.
ticks() { local t=0; for p in $(pstree -pT "$1" | grep -o '([0-9]*)' | tr -d '()'); do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $t; }
for name in "${!pid[@]}"; do wrk -t2 -c"$conns" -d1s "http://127.0.0.1:${port[$name]}/" >/dev/null; done # warm-up
out=$(mktemp)
for r in $(seq "$rounds"); do for spec in "$@"; do name=${spec%%=*}
	t0=$(ticks "${pid[$name]}")
	w=$(wrk -t2 -c"$conns" -d"$dur" --latency "http://127.0.0.1:${port[$name]}/bench?q=1")
	t1=$(ticks "${pid[$name]}")
	n=$(awk '/requests in/{print $1}' <<<"$w")
	line=$(printf "r%d %-12s %10s req/s %7.1f us/req  p99 %s" "$r" "$name" "$(awk '/Requests\/sec/{print $2}' <<<"$w")" \
		"$(awk "BEGIN{print ($t1-$t0)*10000/$n}")" "$(awk '/ 99%/{print $2}' <<<"$w")")
	echo "$line"; echo "$line" >>"$out"
done; done
echo "medians (CPU µs/req, req/s):"
for spec in "$@"; do name=${spec%%=*}
	printf "  %-12s %7s %10s\n" "$name" \
		"$(awk -v n="$name" '$2==n{print $5}' "$out" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')" \
		"$(awk -v n="$name" '$2==n{print $3}' "$out" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')"
done
rm -f "$out"
