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
//   - soak: N users for a long time at a steady mixed rate (private, to
//     online and to logged-out users, rooms, lobby), with logouts and
//     logins, dropped connections resumed with since, and room moves; the
//     promises are judged as their deadlines pass, and the server's RSS,
//     fds and goroutines must stay flat after the warm-up (below).
//
// # Soak: what is promised, and what is not
//
// A soak worker keeps private messages and rooms among its own users
// (soakstate.go), so it holds both ends of what it judges. Each promise of
// docs/PROTOCOL.md is judged when its deadline (Config.Deadline) passes:
//
//   - A private message answered "delivered" must be read within the
//     deadline of the answer, unless every session of the receiver that
//     could have taken it was dropped by us (the kernel took it; the
//     socket died with it unread: not promised, counted as excused). A
//     dropped session counts as open until the next login, since chatd
//     may write to it until it notices.
//   - One answered "stored" must be read in a session that logged in
//     after it was sent and lasted a deadline. Logins ask for acks, and a
//     mailbox message read in a session that was then dropped before the
//     ack went out comes again: allowed, counted as redelivered; any other
//     second copy is a duplicate.
//   - Every private message gets an answer within the deadline, and none
//     is refused. One whose sender logged out before the answer was still
//     processed, and is judged at the end; one whose sender's connection
//     we dropped may never have left the socket: not promised.
//   - Per sender, private messages come in order, except the documented
//     reroute: a message written before the receiver's current session
//     began may come after later ones.
//   - In a room (the lobby included), from the joined reply (its seq, or
//     since and recovered/missed) to the left reply, every seq comes once
//     and in order. A gap is judged at its deadline: the member's own
//     message (chatd does not send it back; the seqs other members saw,
//     or an own message nobody saw, tell), else lost. Messages missed
//     beyond the kept history (missed in joined) are not promised.
//     Messages of a room after its left, or to a non-member, are
//     violations. A resume must rejoin every room, and its since must
//     replay exactly the seqs after it.
//   - Lobby messages sent while a user is logged out are not promised; a
//     login asks since for the lobby anyway and checks what comes.
//
// At the end every logged-out user logs in, the deliveries drain, and
// every member's missing tail up to the last seq any member saw is judged.
// Violations are counted per kind (counters "v_…"), the first are printed
// as they happen, and summarizeSoak turns them into invariants, with the
// flatness verdict of package trend on the parent's samples.
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
