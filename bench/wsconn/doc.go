// Package wsconn is chatbench's WebSocket client: just enough RFC 6455 to
// drive tens of thousands of connections from one process cheaply.
//
// A Dialer opens connection i from a fixed loopback source address. Loopback
// connects slow down sharply once the kernel picks source ports for more than
// ~19k connections per (source, destination) pair, so connection i binds
// Sources.Addr(i) (127.0.0.2, 127.0.0.3, … with at most PerSource each), and
// every socket sets IP_BIND_ADDRESS_NO_PORT: bind takes only the address and
// connect picks the port from the whole 4-tuple. A plain bind to port 0 is
// linear in the ports in use and cost ~1 ms of kernel time per connection at
// 10,000 connections (docs/BENCHMARKS.md, "Pitfalls").
//
// A Conn frames client messages (masked, unfragmented) and reads server
// messages. Read answers pings and the server's close frame itself and
// reports the close code as a *CloseError, so an idle connection that keeps
// reading behaves like a browser tab: it survives the server's keepalive.
//
// Classify turns dial, handshake and read errors into short causes
// ("connect: refused", "handshake: HTTP 404", "closed: 4008") that reports
// count by cause.
//
// Nothing here imports chatd: the client works against any RFC 6455 server.
package wsconn
