#!/bin/sh
# cluster.sh: start and stop a local chatd cluster for chatbench (issue 11's
# measurements in docs/BENCHMARKS.md, "Issue 11: cluster").
#
#   bench/cluster/cluster.sh start DIR MODE N   # writes DIR/urls, DIR/pids, DIR/nats.pid
#   bench/cluster/cluster.sh stop DIR           # kills what start started (by pid)
#   bench/cluster/cluster.sh varz DIR           # one line: t in_msgs out_msgs in_bytes out_bytes mem cpu (ext only)
#   bench/cluster/cluster.sh waitload [MAX]     # waits (≤ 5 min) until the 1-min load ≤ MAX (3)
#
# MODE:
#   single  one chatd, cluster disabled (N is ignored)
#   hub     N chatd nodes; node 1 runs the embedded NATS server, nodes 2..N
#           connect to it through cluster.nats.urls
#   mesh    N chatd nodes, each with an embedded NATS server, routed into one
#           mesh (cluster_listen + routes), replicas $REPLICAS (1)
#   ext     N chatd nodes and a separate nats-server (same version as the
#           embedded one, v2.15.3, JetStream with sync_interval: always) with
#           its monitoring port on, so /varz counts NATS's traffic and its own
#           RSS and CPU are those of its process. Build it once with
#             go build -o /tmp/nats-server github.com/nats-io/nats-server/v2
#
# Every node's config is configs/chatbench-server.yaml (rate limits lifted,
# anonymous auth, warn logs) with its own listen port and mailbox directory,
# plus a cluster: section; the files stay in DIR (node1.yaml, ...).
# Ports (below the ephemeral range, 32768+): chat 21601+i, NATS clients 21700
# (mesh: 21720+i), routes 21710+i, NATS monitoring 21721 (ext).
# Binaries: $CHATD (/tmp/chatd), $NATS (/tmp/nats-server); $LOGLEVEL (warn) is the
# nodes' log level, $REPLICAS the mesh's JetStream replicas (1). Run from the repo root.
set -eu
CHATD=${CHATD:-/tmp/chatd}
NATS=${NATS:-/tmp/nats-server}
NATSPORT=21700
MONPORT=21721

node_conf() { # DIR i clustersection
	sed -e "s/127.0.0.1:39411/127.0.0.1:$((21600 + $2))/" \
		-e "s#/tmp/chatbench-mailbox#$1/mail$2#" configs/chatbench-server.yaml
	printf '%s\n' "$3"
}

waitready() { # port: wait for /healthz (≤ 60 s)
	w=0
	until curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1; do
		w=$((w + 1)); [ $w -lt 600 ] || { echo "node on $1 not ready" >&2; return 1; }
		sleep 0.1
	done
}

start() { # DIR MODE N
	dir=$1 mode=$2 n=$3
	mkdir -p "$dir"; : >"$dir/pids"; : >"$dir/urls.list"; rm -f "$dir/nats.pid"
	[ "$mode" = single ] && n=1
	if [ "$mode" = ext ]; then
		cat >"$dir/nats.conf" <<EOF
listen: 127.0.0.1:$NATSPORT
http: 127.0.0.1:$MONPORT
jetstream { store_dir: "$dir/nats-ext", sync_interval: always }
EOF
		"$NATS" -c "$dir/nats.conf" >"$dir/nats.log" 2>&1 &
		echo $! >"$dir/nats.pid"
		until curl -sf "http://127.0.0.1:$MONPORT/healthz" >/dev/null 2>&1; do sleep 0.1; done
	fi
	routes=""
	i=1; while [ $i -le "$n" ]; do
		routes="$routes${routes:+, }\"nats://127.0.0.1:$((21710 + i))\""; i=$((i + 1))
	done
	i=1; while [ $i -le "$n" ]; do
		case $mode in
		single) cl="" ;;
		hub) if [ $i = 1 ]; then
				cl="cluster: {enabled: true, node: n$i, nats: {embedded: {enabled: true, listen: \"127.0.0.1:$NATSPORT\", store_dir: \"$dir/nats$i\"}}}"
			else
				cl="cluster: {enabled: true, node: n$i, nats: {urls: [\"nats://127.0.0.1:$NATSPORT\"]}}"
			fi ;;
		mesh) cl="cluster: {enabled: true, node: n$i, nats: {replicas: ${REPLICAS:-1}, embedded: {enabled: true, listen: \"127.0.0.1:$((NATSPORT + 20 + i))\", cluster_listen: \"127.0.0.1:$((21710 + i))\", routes: [$routes], store_dir: \"$dir/nats$i\"}}}" ;;
		ext) cl="cluster: {enabled: true, node: n$i, nats: {urls: [\"nats://127.0.0.1:$NATSPORT\"]}}" ;;
		*) echo "unknown mode $mode" >&2; exit 2 ;;
		esac
		node_conf "$dir" $i "$cl" | sed "s/level: \"warn\"/level: \"${LOGLEVEL:-warn}\"/" >"$dir/node$i.yaml"
		"$CHATD" -config "$dir/node$i.yaml" >"$dir/node$i.log" 2>&1 &
		echo $! >>"$dir/pids"
		echo "ws://127.0.0.1:$((21600 + i))/ws" >>"$dir/urls.list"
		i=$((i + 1))
	done
	i=1; while [ $i -le "$n" ]; do waitready $((21600 + i)); i=$((i + 1)); done
	paste -sd, "$dir/urls.list" >"$dir/urls"
	paste -sd, "$dir/pids" >"$dir/pidlist"
}

stop() { # DIR
	for p in $(cat "$1/pids" 2>/dev/null) $(cat "$1/nats.pid" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	for p in $(cat "$1/pids" 2>/dev/null) $(cat "$1/nats.pid" 2>/dev/null); do
		w=0; while kill -0 "$p" 2>/dev/null && [ $w -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
		kill -9 "$p" 2>/dev/null || true
	done
}

varz() {
	curl -s "http://127.0.0.1:$MONPORT/varz" | jq -r '[now, .in_msgs, .out_msgs, .in_bytes, .out_bytes, .mem, .cpu] | @tsv'
}

waitload() {
	max=${1:-3} w=0
	while [ "$(awk -v m="$max" '{print ($1 <= m)}' /proc/loadavg)" != 1 ] && [ $w -lt 30 ]; do sleep 10; w=$((w + 1)); done
	cut -d' ' -f1-3 /proc/loadavg
}

cmd=$1; shift
case $cmd in
start) start "$@" ;;
stop) stop "$@" ;;
varz) varz ;;
waitload) waitload "$@" ;;
*) sed -n '2,9p' "$0"; exit 2 ;;
esac
