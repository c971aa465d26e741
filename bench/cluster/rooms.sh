#!/bin/sh
# rooms.sh: room messages across 3 nodes, before and after the room streams
# (docs/BENCHMARKS.md "Issue 11: cluster", room history across nodes).
#
#   bench/cluster/rooms.sh OUTDIR [REPS]
#
# Each rep, for each binary (CHATD_OLD, CHATD_NEW) and mode (single, hub):
# wait for the 1-minute load ≤ 3, start the servers (cluster.sh), then
#   chatbench room -n 300 -publishers 3 -rate $RATE (1000) -d 10s -warmup 2s
# (300 members of one room, spread over the nodes; every message reaches
# 299 members) and stop. One line per run on stdout and in OUTDIR/runs.tsv:
# binary mode rep load p50 p99 (ms) CPU/delivery (µs) passed failed.
set -eu
out=$1 reps=${2:-3}
CB=${CHATBENCH:-/tmp/chatbench}
C=bench/cluster/cluster.sh
mkdir -p "$out"
r=1; while [ $r -le "$reps" ]; do
	for bin in old new; do
		for m in single hub; do
			d=$out/$bin-$m-$r; rm -rf "$d"
			load=$($C waitload 3 | cut -d' ' -f1)
			if [ $bin = old ]; then CHATD=$CHATD_OLD; else CHATD=$CHATD_NEW; fi
			CHATD=$CHATD $C start "$d" "$m" 3
			timeout 150 "$CB" room -n 300 -publishers 3 -rate ${RATE:-1000} -d 10s -warmup 2s \
				-url "$(cat "$d/urls")" -pid "$(cat "$d/pidlist")" -out "$d/r.json" >"$d/out.txt" 2>&1 || true
			load2=$(cut -d' ' -f1 /proc/loadavg)
			$C stop "$d"
			jq -r --arg b "$bin" --arg m "$m" --arg r "$r" --arg l "$load→$load2" \
				'[$b, $m, $r, $l, .latency.latency.p50_us/1000, .latency.latency.p99_us/1000,
				  (.metrics[] | select(.name == "server CPU per delivery").value), .passed, .failed] | @tsv' \
				"$d/r.json" | tee -a "$out/runs.tsv"
		done
	done
	r=$((r + 1))
done
