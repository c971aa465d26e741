// Command quick is a small load tool for chatd's /echo endpoint, and for any
// WebSocket echo server (bench/baseline is the usual other one). It is a
// precursor of chatbench. It talks to servers only over the wire and never
// imports package server (deps_test.go enforces this).
//
// # Idle mode
//
//	quick -mode idle -n 10000 -url ws://127.0.0.1:8080/echo -pid PID -hold 20s
//
// Opens N connections, proves each alive with one echo, holds them for
// -hold while sampling the server process every -interval from /proc/PID
// (VmRSS, open file descriptors, threads), proves each alive again with a
// second echo, and closes them all (without a close handshake: the server
// sees EOF). It reports
//
//	bytes per connection = (RSS at the end of the hold − RSS before connecting) / opened
//
// so the server should be freshly started, and idle, for each run.
//
// # Echo mode
//
//	quick -mode echo -c 100 -size 32 -dur 10s -url ws://127.0.0.1:8080/echo -pid PID
//
// Opens C connections and runs one closed loop on each: send a binary
// message of -size random bytes, wait for the identical echo, repeat. After
// -warmup it measures for -dur: round trips per second, latency percentiles
// (nearest rank over every sample; latency is as the client sees it,
// including its own scheduling), and the server's CPU time per round trip,
// from utime+stime in /proc/PID/stat (10 ms resolution). The client's own
// CPU per round trip is reported too: on a 2-core box client and server
// share the CPUs.
//
// # Many connections
//
// Every connection costs the client one file descriptor and a process may
// hold 20,000, so idle mode splits N over -procs client processes (by
// default as few as hold at most 19,000 each). With more than one it
// re-executes its own binary with -worker for each share; the children
// report back as JSON lines on stdout and finish when told to, or when
// their parent goes away.
//
// Loopback connects slow down sharply once the kernel picks source ports for
// more than ~19k connections per (source, destination) pair, so every socket
// binds an explicit source address: connection i uses -src + i/-per-src
// (127.0.0.2, 127.0.0.3, …, 15,000 each by default). Sockets set
// IP_BIND_ADDRESS_NO_PORT, so the port is chosen at connect time from the
// whole 4-tuple instead of by bind's linear search of the address's ports.
//
// Results go to stdout, human-readable, or as one JSON object with -json
// (progress then goes to stderr). The exit status is 1 when any connection
// failed to open or to echo. bench/quick/compare.sh runs the whole
// chatd-versus-baseline comparison that docs/BENCHMARKS.md reports.
package main
