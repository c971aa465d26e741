// Package server is chatd's WebSocket server: the accept loop, the HTTP
// upgrade, the epoll read path, the per-connection actors that own all
// writes, and the endpoints (/echo, /healthz; chat comes next).
//
// # Accept and handshake
//
// The accept loop takes connections with accept4 on the listener's fd; they
// never become net.Conns, so Go's runtime poller and its per-connection
// state are not involved, and each connection is exactly one non-blocking
// fd (see sock). The HTTP upgrade runs on the read path below: the request
// head accumulates in a per-connection buffer until complete, so a client
// that dribbles its request holds a buffer, never a goroutine, until
// handshake.timeout. gobwas/ws's Upgrader checks the request and writes the
// response into memory; the connection's actor sends it.
//
// # Read path
//
// A connection is registered with one epoll instance by its own file
// descriptor (package poll), level-triggered and one-shot. When
// it is readable, one of a fixed set of I/O workers reads it without blocking
// into the worker's own buffer until EAGAIN, and feeds the bytes to the
// connection's wsframe.Decoder. Complete messages are copied out and posted to
// the connection's actor; a partial frame stays in the decoder, never in a
// blocked worker. Then the worker re-arms the socket. An idle connection
// therefore has no goroutine and no buffer.
//
// When a connection's mailbox is full the worker keeps the undelivered bytes
// on the connection and does not re-arm it: TCP backpressure reaches the
// client. The actor resumes reading once its mailbox has drained to half.
//
// # Write path
//
// All writes to a connection come from its actor. A write is one non-blocking
// writev; bytes the socket does not take are kept on the connection and the
// socket is armed for writability. A connection whose pending bytes would
// exceed limits.write_budget_bytes is closed as a slow consumer (4008).
//
// # Timeouts
//
// One sweeper goroutine enforces the timeouts that need a clock: a frame left
// incomplete too long (4002), keepalive pings and dead peers (4003), and the
// close handshake. It only reads atomics and posts to actors' system lanes.
//
// # Close codes
//
// Protocol outcomes are values: every close carries a code and a reason, and
// the connection's close is logged with both. docs/PROTOCOL.md has the table.
package server
