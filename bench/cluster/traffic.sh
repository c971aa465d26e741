#!/bin/sh
# traffic.sh: NATS messages and bytes per chat message (measurement 3 of
# docs/BENCHMARKS.md "Issue 11: cluster"). Three chatd nodes on a separate
# nats-server (cluster.sh MODE ext), whose /varz is sampled every 0.5 s while
#   chatbench private -n 2000 -rate 5000 -d 10s -warmup 2s      (every pair across nodes)
#   chatbench room -n 300 -publishers 3 -rate 100 -d 10s -warmup 2s   (lobby, 100 members per node)
# run one after the other. For each run it prints NATS in/out messages and
# bytes per second over the steady part of the sending window (from 1 s after
# chatbench's "ready" to 1 s before "sent"), divided by the chat messages per
# second, and per login over the connect phase.
#
#   bench/cluster/traffic.sh OUTDIR
set -eu
out=$1; CB=${CHATBENCH:-/tmp/chatbench}; C=bench/cluster/cluster.sh
rm -rf "$out"; mkdir -p "$out"
$C start "$out/ext" ext 3
(while :; do $C varz >>"$out/varz.tsv"; sleep 0.5; done) & S=$!
sleep 3
U=$(cat "$out/ext/urls") P=$(cat "$out/ext/pidlist")
timeout 120 "$CB" private -n 2000 -rate 5000 -d 10s -warmup 2s -url "$U" -pid "$P" -out "$out/private.json" >"$out/private.txt" 2>&1 || true
sleep 3
timeout 120 "$CB" room -n 300 -publishers 3 -rate 100 -d 10s -warmup 2s -url "$U" -pid "$P" -out "$out/room.json" >"$out/room.txt" 2>&1 || true
sleep 2
kill $S; $C stop "$out/ext"
/usr/bin/python3 - "$out" <<'PY'
import json, sys, datetime
out = sys.argv[1]
V = [list(map(float, l.split())) for l in open(out + "/varz.tsv") if l.strip()]
def at(t):  # the sample nearest t
    return min(V, key=lambda v: abs(v[0] - t))
def per(a, b, div):
    dt = b[0] - a[0]
    return [(b[i] - a[i]) / dt / div for i in (1, 2, 3, 4)]
for name in ("private", "room"):
    r = json.load(open(f"{out}/{name}.json"))
    t0 = datetime.datetime.fromisoformat(r["started"].replace("Z", "+00:00")).timestamp()
    ph = {p["name"]: p["at"] for p in r["phases"]}
    m = {x["name"]: x["value"] for x in r["metrics"]}
    rate = m["sent/s"]
    a, b = at(t0 + ph["ready"] + 1), at(t0 + ph["sent"] - 1)
    i, o, ib, ob = per(a, b, rate)
    print(f"{name}: {rate:.0f} msg/s, window {b[0]-a[0]:.1f} s: NATS per chat message: in {i:.3f} msgs {ib:.0f} B, out {o:.3f} msgs {ob:.0f} B; passed {r['passed']} failed {r['failed']}")
    c0, c1 = at(t0 - 1), at(t0 + ph["ready"])
    n = r["conns"]["opened"]
    d = [(c1[k] - c0[k]) / n for k in (1, 2, 3, 4)]
    print(f"  connect phase ({n} logins): per login in {d[0]:.2f} msgs {d[2]:.0f} B, out {d[1]:.2f} msgs {d[3]:.0f} B")
q0, q1 = V[0], at(V[0][0] + 2.5)
print("idle background per s: in %.2f out %.2f msgs; in %.0f out %.0f B" % tuple(per(q0, q1, 1)[k] for k in (0, 1, 2, 3)))
print("nats-server mem at end %.1f MiB, cpu %.1f%%" % (V[-1][5] / 2**20, V[-1][6]))
PY
