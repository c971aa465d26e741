#!/usr/bin/env bash
# compare.sh runs the chatd-versus-baseline comparison in docs/BENCHMARKS.md:
# every test REPS times, chatd and bench/baseline back to back (alternating
# which goes first), each run on a freshly started server, then prints the
# medians. Run it from anywhere inside the repository:
#
#   bench/quick/compare.sh                     # everything, 3 repetitions
#   REPS=5 TESTS="echo1 echo100" bench/quick/compare.sh
#
# Tests: idle10k (10,000 idle connections), idle19k (19,000), echo1 and
# echo100 (closed-loop echo, 32-byte payload, 1 and 100 connections).
# Environment: REPS (3), TESTS, SERVERS ("chatd baseline"), IDLE19K_SERVERS
# (as SERVERS), HOLD (20s), HOLD19K (10s), DUR (10s),
# WARMUP (2s), SIZE (32), CHATD_PORT (39401), BASE_PORT (39402), OUT (a new
# /tmp/chatd-bench.* directory: binaries, results.jsonl, log).
#
# Every server and client it starts is killed when it exits, however it
# exits. Each single run is bounded by `timeout 60`.
set -euo pipefail

REPS=${REPS:-3}
TESTS=${TESTS:-"idle10k idle19k echo1 echo100"}
SERVERS=${SERVERS:-"chatd baseline"}
IDLE19K_SERVERS=${IDLE19K_SERVERS:-$SERVERS}
HOLD=${HOLD:-20s}
HOLD19K=${HOLD19K:-10s}
DUR=${DUR:-10s}
WARMUP=${WARMUP:-2s}
SIZE=${SIZE:-32}
CHATD_PORT=${CHATD_PORT:-39401}
BASE_PORT=${BASE_PORT:-39402}
OUT=${OUT:-$(mktemp -d /tmp/chatd-bench.XXXXXX)}

root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$OUT/bin"
results=$OUT/results.jsonl
log=$OUT/log
: >"$results"

commit=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
echo "building $commit into $OUT/bin" >&2
(cd "$root" && go build -o "$OUT/bin/chatd" ./cmd/chatd &&
	go build -o "$OUT/bin/baseline" ./bench/baseline &&
	go build -o "$OUT/bin/quick" ./bench/quick)

cat >"$OUT/chatd.yaml" <<YAML
server:
  listen: "127.0.0.1:$CHATD_PORT"
log:
  level: "warn"
YAML

server_pid=""
cleanup() {
	if [[ -n $server_pid ]]; then
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# port_free PORT fails when something already listens on PORT.
port_free() { [[ -z $(ss -Hltn "sport = :$1") ]]; }

# start_server NAME starts a fresh server, sets server_pid and url, and waits
# until it listens.
start_server() {
	local port
	case $1 in
	chatd)
		port=$CHATD_PORT
		port_free "$port" || { echo "port $port is taken; set CHATD_PORT" >&2; exit 1; }
		"$OUT/bin/chatd" -config "$OUT/chatd.yaml" 2>>"$log" &
		;;
	baseline)
		port=$BASE_PORT
		port_free "$port" || { echo "port $port is taken; set BASE_PORT" >&2; exit 1; }
		"$OUT/bin/baseline" -addr "127.0.0.1:$port" 2>>"$log" &
		;;
	esac
	server_pid=$!
	url=ws://127.0.0.1:$port/echo
	for _ in $(seq 100); do
		port_free "$port" || break
		sleep 0.05
	done
	port_free "$port" && { echo "$1 did not start listening" >&2; exit 1; }
	sleep 1 # let start-up allocation settle before the "before" sample
}

stop_server() {
	kill -TERM "$server_pid" 2>/dev/null || true
	for _ in $(seq 150); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
}

run=0
# measure TEST SERVER REP: one run of one test on a fresh server.
measure() {
	local test=$1 server=$2 rep=$3 args
	run=$((run + 1))
	# A fresh block of source addresses per run: no TIME_WAIT left over
	# from the previous run can collide with this one's connections.
	local src=127.$((run / 200 + 1)).$((run % 200)).2
	case $test in
	idle10k) args=(-mode idle -n 10000 -hold "$HOLD") ;;
	idle19k) args=(-mode idle -n 19000 -hold "$HOLD19K") ;;
	echo1) args=(-mode echo -c 1 -size "$SIZE" -dur "$DUR" -warmup "$WARMUP") ;;
	echo100) args=(-mode echo -c 100 -size "$SIZE" -dur "$DUR" -warmup "$WARMUP") ;;
	*) echo "unknown test $test" >&2; exit 2 ;;
	esac
	start_server "$server"
	local load out
	load=$(cut -d' ' -f1 /proc/loadavg)
	echo "== $test $server rep $rep (load $load, src $src)" >>"$log"
	if out=$(timeout 60 "$OUT/bin/quick" "${args[@]}" -url "$url" -pid "$server_pid" -src "$src" -json 2>>"$log"); then
		:
	else
		echo "   $test $server rep $rep: quick exited $? (see $log)" >&2
	fi
	if [[ -z $out ]]; then
		# No result (e.g. killed by the timeout): record the failed run so
		# the summary counts it.
		out='{"mode":"failed"}'
	fi
	if [[ -n $out ]]; then
		jq -c --arg test "$test" --arg server "$server" --argjson rep "$rep" --argjson load "$load" \
			--arg commit "$commit" \
			'. + {test: $test, server: $server, rep: $rep, load1: $load, commit: $commit}' <<<"$out" >>"$results"
	fi
	stop_server
	echo "   $test $server rep $rep done (load $load)" >&2
}

for test in $TESTS; do
	servers=$SERVERS
	[[ $test == idle19k ]] && servers=$IDLE19K_SERVERS
	for rep in $(seq "$REPS"); do
		order=$servers
		if ((rep % 2 == 0)); then
			order=$(tr ' ' '\n' <<<"$servers" | tac | tr '\n' ' ')
		fi
		for server in $order; do
			measure "$test" "$server" "$rep"
		done
	done
done

echo >&2
echo "results: $results" >&2
"$(dirname "$0")/summarize.sh" "$results"
