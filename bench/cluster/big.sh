#!/bin/sh
# big.sh: as many logged-in users as the box holds over N chatd nodes
# (measurement 2 of docs/BENCHMARKS.md "Issue 11: cluster").
#
#   bench/cluster/big.sh OUTDIR MODE NODES USERS     # e.g. /tmp/cl/big ext 6 114000
#
# Starts the nodes (cluster.sh), samples every 2 s the RSS (KiB) and CPU
# (utime+stime, ticks of 10 ms) of every chatd and of the nats-server (MODE ext)
# into OUTDIR/rss.tsv as RSS:CPU and, with MODE ext,
# JetStream's memory and the sessions bucket into OUTDIR/jsz.tsv, then runs
#   chatbench idle -n USERS -d ${HOLD:-20s} -procs ceil(USERS/19000)
# (default -per-src 15000: explicit source addresses 127.0.0.2, .3, ...), with
# -pid the chatd processes only (their RSS before/held, summed).
set -eu
out=$1 mode=$2 nodes=$3 users=$4
CB=${CHATBENCH:-/tmp/chatbench}; C=bench/cluster/cluster.sh
rm -rf "$out"; mkdir -p "$out"
$C start "$out/c" "$mode" "$nodes"
pids=$(cat "$out/c/pids"); np=$(cat "$out/c/nats.pid" 2>/dev/null || true)
(while :; do
	printf '%s' "$(date +%s)"
	for p in $pids $np; do printf '\t%s:%s' "$(awk '/VmRSS/{print $2}' /proc/$p/status)" \
		"$(awk '{print $14 + $15}' /proc/$p/stat)"; done
	echo
	[ -z "$np" ] || curl -s 'http://127.0.0.1:21721/jsz?accounts=true&streams=true' |
		jq -r '[now, .memory, (.account_details[0].stream_detail[]? | select(.name=="KV_chatd_sessions") | .state.messages, .state.bytes)] | @tsv' >>"$out/jsz.tsv"
	sleep 2
done >>"$out/rss.tsv") & S=$!
sleep 4
procs=$(( (users + 18999) / 19000 ))
timeout ${LIMIT:-200} "$CB" idle -n "$users" -d ${HOLD:-20s} -procs $procs -url "$(cat "$out/c/urls")" -pid "$(cat "$out/c/pidlist")" \
	-out "$out/idle.json" >"$out/idle.txt" 2>&1 || true
sleep 4
kill $S; $C stop "$out/c"
echo "pids: $pids nats: $np"; cat "$out/idle.txt"
