// Command chatbench is chatd's load generator. It drives any server of the
// chat protocol (docs/PROTOCOL.md) only over the wire, measures latency
// with HDR histograms from the intended send time (open loop), and checks
// the delivery invariants instead of assuming them.
//
//	chatbench connect -n 5000 -rate 2000 -url ws://127.0.0.1:8080/ws
//	chatbench idle    -n 19000 -d 20s -pid $(pidof chatd)
//	chatbench echo    -n 100 -size 32 -d 10s -url ws://127.0.0.1:8080/echo
//	chatbench private -n 10000 -rate 10000 -d 10s
//	chatbench room    -n 10000 -publishers 1 -rate 1 -d 10s
//	chatbench mailbox -n 100 -senders 10 -messages 10000
//	chatbench soak    -n 15000 -procs 4 -d 30m -pid $(pidof chatd) -admin http://127.0.0.1:39512 -plots docs/soak
//	chatbench private -n 10000 -rate 10000 -url ws://127.0.0.1:8081/ws,ws://127.0.0.1:8082/ws -pid 1234,5678
//	chatbench -config configs/chatbench-private.yaml -pid 1234 -out run.json -plots plots/
//	chatbench compare -reps 3 private -n 1000 -rate 2000
//	chatbench suite                              # what `make bench` runs
//
// Several comma-separated URLs (the nodes of a cluster) spread the users:
// user i connects to URL i mod n, and in private the two partners of each
// pair land on different URLs (chatbench help says how); several PIDs are
// sampled and summed.
//
// The run ends with the invariants and the line "N passed, M failed"; the
// exit status is 1 when one failed, or the run could not finish, and 2 for
// bad usage. "chatbench worker" is internal: the parent starts one per
// client process (-procs).
//
// The work is done by the packages under bench/: scenario (the scenarios),
// fleet (worker processes), check (invariants), metrics (histograms),
// pace (open-loop schedules), wsconn (the client), report (table, JSON,
// plots), progress (the terminal display), compare (chatd against the
// baseline), trend (soak's flatness verdict) and scrape (gauges from
// chatd's admin /metrics).
package main
