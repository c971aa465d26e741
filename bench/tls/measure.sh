#!/bin/sh
# measure.sh: what TLS costs against plain ws://, for docs/BENCHMARKS.md
# "Issue 12: TLS".
#
#   bench/tls/measure.sh OUTDIR [REPS]        # REPS 3
#
# Two servers, interleaved in each repetition, each a fresh process of
# $CHATD started from configs/chatbench-server.yaml on port 21831:
#   ws    as the file says
#   wss   with server.tls on: $CERT and $KEY (ECDSA P-256, self-signed;
#         chatbench -tls-insecure)
#   base  $BASE (chatd before TLS) as the file says, when MODES names it
#         (MODES="base ws": did plain ws:// regress?)
# and three runs on each (chatbench, one client process):
#   idle     idle -n 5000 -d 10s on /ws (logged in): server RSS per
#            connection, server CPU per connect (handshake + login)
#   echo     echo -n 100 -size 32 -d 10s -warmup 2s on /echo: server CPU
#            per round trip
#   connect  connect -n 3000 -rate 0 on /echo: connects/s, server CPU per
#            connect (TCP + TLS + WebSocket handshakes, no login)
# One line per run on stdout and in OUTDIR/runs.tsv: test mode rep load
# metric... ; JSON reports in OUTDIR/TEST-MODE-REP/r.json. Run from the repo
# root.
set -eu
out=$1 reps=${2:-3}
CB=${CHATBENCH:-/tmp/tlsm/chatbench}
CHATD=${CHATD:-/tmp/tlsm/chatd}
BASE=${BASE:-/tmp/tlsm/chatd-main}
MODES=${MODES:-ws wss}
CERT=${CERT:-/tmp/tlsm/cert.pem} KEY=${KEY:-/tmp/tlsm/key.pem}
mkdir -p "$out"
run() { # test mode rep args...
	t=$1 m=$2 r=$3; shift 3
	d=$out/$t-$m-$r; rm -rf "$d"; mkdir -p "$d/mail"
	sed -e 's/39411/21831/' -e "s#/tmp/chatbench-mailbox#$d/mail#" configs/chatbench-server.yaml >"$d/chatd.yaml"
	scheme=ws tls= proto=http
	if [ "$m" = wss ]; then
		scheme=wss tls=-tls-insecure proto=https
		sed -i "s#^server:#server:\n  tls:\n    cert_file: \"$CERT\"\n    key_file: \"$KEY\"#" "$d/chatd.yaml"
	fi
	bin=$CHATD; [ "$m" = base ] && bin=$BASE
	"$bin" -config "$d/chatd.yaml" 2>"$d/chatd.log" & S=$!
	i=0; until curl -skf "$proto://127.0.0.1:21831/healthz" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt 100 ] && { echo "server did not start" >&2; kill $S; exit 1; }; sleep 0.1
	done
	load=$(cut -d' ' -f1 /proc/loadavg)
	path=/echo; [ "$t" = idle ] && path=/ws
	# shellcheck disable=SC2086
	timeout 300 "$CB" "$@" -procs 1 -url "$scheme://127.0.0.1:21831$path" $tls -pid $S -out "$d/r.json" >"$d/out.txt" 2>&1 || true
	load2=$(cut -d' ' -f1 /proc/loadavg)
	kill $S; wait $S || true
	jq -r --arg t "$t" --arg m "$m" --arg r "$r" --arg l "$load→$load2" \
		'[$t, $m, $r, $l, (.metrics[] | "\(.name)=\(.value|tostring|.[0:9])"), "passed=\(.passed)", "failed=\(.failed)"] | @tsv' \
		"$d/r.json" | tee -a "$out/runs.tsv"
}
r=1; while [ "$r" -le "$reps" ]; do
	for m in $MODES; do run idle "$m" "$r" idle -n 5000 -d 10s; done
	for m in $MODES; do run echo "$m" "$r" echo -n 100 -size 32 -d 10s -warmup 2s; done
	for m in $MODES; do run connect "$m" "$r" connect -n 3000 -rate 0; done
	r=$((r + 1))
done
