// Package bench holds no code of its own: it documents the load tools under
// it and, in deps_test.go, enforces the rule they share.
//
// # The tools
//
//   - cmd/chatbench is the load generator. Its packages live here: scenario
//     (the scenarios: connect, idle, echo, private, room, mailbox, soak), fleet
//     (client processes), wsconn (the WebSocket client, explicit source
//     addresses), check (delivery invariants), metrics (histograms), pace
//     (open-loop schedules), procfs (server and client samples from /proc),
//     report (table, JSON, plots), progress (the terminal display),
//     compare (chatd against the baseline, medians and ratios), trend
//     (soak's flatness verdict) and scrape (gauges from an admin /metrics;
//     overhead.sh beside it measures what scraping costs chatd).
//   - baseline is a reference server of the usual kind (net/http and
//     gorilla/websocket, a goroutine per connection, a hub), kept only so
//     chatd's numbers have something to be compared with on the same box.
//
// docs/BENCHMARKS.md lists the commands its numbers come from.
//
// # Over the wire only
//
// The tools reach a server only over the network, never by importing it,
// so they measure what a client sees and work against any server of the
// protocol. No package under bench/, nor cmd/chatbench, nor their tests,
// nor anything they import, is part of chatd's server, actor runtime or
// authentication (github.com/chatd/chatd/server, /actor, /auth and their
// subpackages). The one exception is server/wire, the wire types shared by
// server, tools and clients, which imports only the standard library. The
// baseline, a stand-in for someone else's server, imports nothing else of
// this module at all. TestImports checks both with go list.
package bench
