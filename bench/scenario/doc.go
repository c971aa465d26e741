// Package scenario runs chatbench's load scenarios on one worker's share of
// the connections, and turns the merged results of all workers into a
// report.
//
// # Scenarios
//
//   - connect: N connections at rate R (open loop; 0 for as fast as -dials
//     allow), WebSocket handshake plus plain-text login on /ws. Connects per
//     second, failures by cause, handshake+login latency.
//   - idle: N connections (logged in on /ws) held for T while the parent samples the
//     server (RSS, fds, threads from /proc/PID); then a ping on each proves it
//     alive. Bytes of server RSS per connection.
//   - echo: C connections on /echo, payload S, closed loop or an aggregate
//     rate; works against any RFC 6455 echo server. Round trips per second,
//     and the server's (-pid) and the client's CPU time per round trip.
//   - private: N users, each writing to its partner (i+N/2) or a random other
//     user, at an aggregate rate R; latency from the intended send time in
//     the payload.
//   - room: M members of one room (the lobby by default), P publishers at an
//     aggregate rate R, optional observers outside the room; deliveries per
//     second and the latency to the first and the last member.
//   - mailbox: S senders store K messages for U offline users, the users log
//     in, every message must arrive in order; drain rate.
//
// # Several servers
//
// Config.URL may name several endpoints, the nodes of a cluster, and the
// users are spread over them (spread.go): user i connects to URL i mod n,
// except that in private with partners the second half is rotated by one,
// so that the two ends of every pair are on different URLs and every
// message crosses nodes; in room the publishers are spread over the URLs
// too (isPublisher). Nothing else changes: the invariants are checked
// by the clients from the payloads, whichever node a user is on, so they
// hold across nodes exactly when the cluster delivers as one server would.
// Config.PIDs may name several server processes; each sample is their sum.
//
// # Workers and phases
//
// A Job is one worker's Shard of the users (global indexes; user i is
// "cb<tag>-<i>" and dials from source address Src + i/PerSrc). A worker
// opens its connections, then meets the other workers at named phases
// (ready, sent, drained, …) through its Coord: Sync blocks until the
// parent has seen every worker reach the phase, so no message is sent
// before every receiver is logged in, and no connection closes before
// every late delivery has arrived. The parent records the release time of
// each phase and samples the server there.
//
// Sending is open loop (package pace): message k is due at start + k/R,
// whatever happened to the earlier ones, and its payload carries that
// intended time, so latency includes any time the message waited in the
// client because the server pushed back. Each worker's share of the rate
// is proportional to its senders.
//
// Every message carries its stream and sequence number (payload.go);
// readers feed them to per-user check.Inbox values, senders count them in
// check.Outbox values, and the parent verifies the invariants with the
// scenario's Plan (plan.go).
//
// Summarize (parent side) merges the workers' Results into a report.Report.
package scenario
