#!/bin/sh
# overhead.sh: what counting and scraping metrics cost per message, for
# docs/BENCHMARKS.md "Issue 12: metrics".
#
#   bench/scrape/overhead.sh OUTDIR [REPS] [SCENARIO]   # REPS 5, SCENARIO private
#
# Three servers, interleaved in each repetition, each run on a fresh
# process started from configs/chatbench-server.yaml on port 21811 (below
# the ephemeral range, which 2,000 loopback clients draw from):
#   base     $BASE (chatd without the counters: the commit before them)
#   off      $CHATD with no admin listener (the counters count, nobody reads)
#   scraped  $CHATD with admin.listen on 127.0.0.1:21812, /metrics fetched
#            every second by curl for the whole run
# private: chatbench private -n 2000 -rate $RATE (3000) -d 10s -warmup 3s
# room:    chatbench room -n 2000 -rate $RATE (5) -d 10s -warmup 3s (lobby
#          fan-out: 2,000 deliveries per message)
# The rates stay well below saturation on a shared 2-core box: a saturated
# server batches more and spends less CPU per message, which would hide a
# few percent either way.
# One line per run on stdout and in OUTDIR/runs.tsv: mode rep load
# CPU/delivery (µs) p50 p99 (ms) passed failed; JSON reports in
# OUTDIR/MODE-REP/r.json. Run from the repo root.
set -eu
out=$1 reps=${2:-5} scen=${3:-private}
CB=${CHATBENCH:-/tmp/mb/chatbench}
CHATD=${CHATD:-/tmp/mb/chatd-metrics}
BASE=${BASE:-/tmp/mb/chatd-base}
mkdir -p "$out"
case $scen in
private) args="private -n 2000 -rate ${RATE:-3000} -d 10s -warmup 3s" ;;
room) args="room -n 2000 -rate ${RATE:-5} -d 10s -warmup 3s" ;;
*) echo "unknown scenario $scen" >&2; exit 2 ;;
esac
r=1; while [ "$r" -le "$reps" ]; do
	for m in base off scraped; do
		d=$out/$m-$r; rm -rf "$d"; mkdir -p "$d/mail"
		sed -e 's/39411/21811/' -e "s#/tmp/chatbench-mailbox#$d/mail#" configs/chatbench-server.yaml >"$d/chatd.yaml"
		bin=$CHATD
		[ "$m" = base ] && bin=$BASE
		[ "$m" = scraped ] && printf 'admin:\n  listen: "127.0.0.1:21812"\n' >>"$d/chatd.yaml"
		"$bin" -config "$d/chatd.yaml" 2>"$d/chatd.log" & S=$!
		i=0; until curl -sf http://127.0.0.1:21811/healthz >/dev/null; do
			i=$((i + 1)); [ $i -gt 100 ] && { echo "server did not start" >&2; kill $S; exit 1; }; sleep 0.1
		done
		P=
		if [ "$m" = scraped ]; then
			( while :; do curl -sf -o /dev/null http://127.0.0.1:21812/metrics || true; sleep 1; done ) & P=$!
		fi
		load=$(cut -d' ' -f1 /proc/loadavg)
		# shellcheck disable=SC2086
		timeout 150 "$CB" $args -url ws://127.0.0.1:21811/ws -pid $S -out "$d/r.json" >"$d/out.txt" 2>&1 || true
		load2=$(cut -d' ' -f1 /proc/loadavg)
		[ -n "$P" ] && kill $P
		kill $S; wait $S || true
		jq -r --arg m "$m" --arg r "$r" --arg l "$load→$load2" \
			'[$m, $r, $l, (.metrics[] | select(.name == "server CPU per delivery").value),
			  .latency.latency.p50_us/1000, .latency.latency.p99_us/1000, .passed, .failed] | @tsv' \
			"$d/r.json" | tee -a "$out/runs.tsv"
	done
	r=$((r + 1))
done
