#!/bin/sh
# p99.sh: private messages across nodes against one node, interleaved, for
# docs/BENCHMARKS.md "Issue 11: cluster" (measurement 1).
#
#   bench/cluster/p99.sh OUTDIR [REPS] [MODES]    # MODES default "single hub mesh"
#
# Each run: wait for the 1-minute load ≤ 3, a fresh server set
# (bench/cluster/cluster.sh start OUTDIR/MODE-REP MODE 3), then
#   chatbench private -n 10000 -rate $RATE (10000) -d 10s -warmup 3s -procs 2
# with -url the node URLs (single: one URL) and -pid their pids; then stop.
# One line per run on stdout and in OUTDIR/runs.tsv: mode rep load p50 p99
# (ms) CPU/delivery (µs) passed failed; JSON reports in OUTDIR/MODE-REP/r.json.
# Run from the repo root; $CHATBENCH (/tmp/chatbench).
set -eu
out=$1 reps=${2:-3} modes=${3:-single hub mesh}
CB=${CHATBENCH:-/tmp/chatbench}
C=bench/cluster/cluster.sh
mkdir -p "$out"
r=1; while [ $r -le "$reps" ]; do
	for m in $modes; do
		d=$out/$m-$r; rm -rf "$d"
		load=$($C waitload 3 | cut -d' ' -f1)
		$C start "$d" "$m" 3
		timeout 150 "$CB" private -n 10000 -rate ${RATE:-10000} -d 10s -warmup 3s -procs 2 \
			-url "$(cat "$d/urls")" -pid "$(cat "$d/pidlist")" -out "$d/r.json" >"$d/out.txt" 2>&1 || true
		load2=$(cut -d' ' -f1 /proc/loadavg)
		$C stop "$d"
		jq -r --arg m "$m" --arg r "$r" --arg l "$load→$load2" \
			'[$m, $r, $l, .latency.latency.p50_us/1000, .latency.latency.p99_us/1000,
			  (.metrics[] | select(.name == "server CPU per delivery").value), .passed, .failed] | @tsv' \
			"$d/r.json" | tee -a "$out/runs.tsv"
	done
	r=$((r + 1))
done
