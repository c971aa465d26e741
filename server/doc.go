// Package server is chatd's WebSocket server: the accept loop, the HTTP
// upgrade, the event loops that own the connections (reading, the
// per-connection actors, batched writes), and the endpoints (/echo,
// /healthz; chat and the others are registered by cmd/chatd).
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
// # Admission
//
// Before a socket becomes a Conn, admission (admit.go) checks it against
// server.connections and handshake.max_concurrent: open connections in all
// and per address, handshakes in progress in all and per address, and a
// token bucket of new connections per address (an address is an IPv4
// address or an IPv6 /64). A socket over a limit is answered at once,
// without reading its request: 503 when the server is full, 429 when its
// address is over its share. The accept loop never stops accepting, so a
// client that opens thousands of silent sockets is refused while /healthz
// and everyone else are served. Admission keeps one small map entry per
// address with connections or a bucket still refilling, nothing per
// connection.
//
// # Lingering
//
// A socket chatd has answered over HTTP (an error, a refusal, /healthz) is
// not closed at once: closing it with unread request bytes would send an
// RST, which can make the client lose the answer. It is half-closed and
// handed to the linger set (linger.go), which reads and discards until the
// client hangs up, limits.closing_read_bytes, or close_timeout, then
// closes it; connections.max_lingering bounds the set, the oldest going
// first. A lingering socket has no Conn, goroutine or buffer.
//
// # Event loops
//
// A connection belongs to one of server.event_loops event loops (package
// evloop; default one per CPU) for its life, chosen round robin at accept.
// A loop is an easygo epoll instance and its wait goroutine, and
// everything of its connections runs there, one thing at a time: reading
// and decoding, the connection's actor (an actor system per loop whose
// dispatcher is the loop's inbox, with a budget of 64 events per
// activation), and writing. Other goroutines reach a connection by
// posting to its actor, or by running a function on its loop (Conn.Loop,
// Loop.Run: a fan-out hands each loop one function per message, which
// serves every recipient on that loop); either wakes the loop through its
// inbox. The listener and the lingering sockets are watched by a separate
// one-shot poller.
//
// # Read path
//
// The socket is registered once, level-triggered, without one-shot: a wake
// costs no epoll_ctl (the one-shot re-arm it replaces was 10% of the
// server's CPU per echo, docs/BENCHMARKS.md). Level rather than edge
// triggering: a socket left with input after a wake's read budget is
// simply reported again by the next epoll_wait, with no requeue list to
// keep and no risk of a lost edge; edge triggering would save nothing
// more, both costing no epoll_ctl per wake. Only a pause changes the
// interest, and a paused socket is left registered one-shot with no
// events, so a peer that hangs up meanwhile is reported once, not on every
// wait. When it is readable, its loop reads it without
// blocking into the loop's buffer (at most eight reads a wake; the next
// epoll_wait reports a socket with more, after the others) and feeds the
// bytes to the connection's wsframe.Decoder. Complete messages are copied
// out and handed to the connection's actor: when it is idle it handles
// each at once, inline on the read callback (actor.PostInline), otherwise
// they queue behind what it has. A partial frame stays in a decoder the
// connection holds only while something is incomplete between reads.
// An idle connection therefore has no goroutine and no buffer.
//
// What the socket brings fills at most half of the queue
// (limits.queue_size). When it is
// full the loop keeps the undelivered bytes on the connection and stops
// watching the socket for input (one epoll_ctl): TCP backpressure reaches
// the client. The actor resumes reading once its queue has drained to a
// quarter. A session may stop reading the same way (Conn.PauseReading,
// until ResumeReading), for input it cannot take yet, such as the bridge's
// full stdin queue; such a connection is still pinged, so a peer that has
// gone is noticed, and it reads on once closing, for the peer's close
// frame.
//
// The request head is kept until the endpoint's Open returns
// (Conn.RequestHeaders, RequestURI, Query), then dropped: an idle
// connection holds neither its headers nor its query.
//
// # Write path
//
// All writes to a connection come from its loop. A write appends the frame
// to the connection's output (a buffer from the loop's pool, held only
// while there is output) and marks the connection dirty; at the end of the
// wake the loop writes each dirty connection's output with one write(2),
// so the replies to several requests read in one wake, or the frames of a
// burst of broadcasts, cost one syscall. Bytes the socket does not take
// stay queued and the socket is watched for writability. A connection
// whose pending bytes would exceed limits.write_budget_bytes is dropped as
// a slow consumer: its close frame could only follow the pending bytes the
// client is not reading, so the socket is torn down at once and 4008 is
// logged, not sent. A connection that closes in the middle of a wake gets
// one last write of its output first, so a close frame queued just before
// still goes out.
//
// # Compression
//
// With server.compression.enabled, the handshake accepts the first
// permessage-deflate offer it can honour (internal/deflate: every valid
// offer, windows of 8 to 15 bits included) and always answers with
// server_no_context_takeover and client_no_context_takeover. Each message
// is then compressed or inflated on its own, with its loop's compressor
// and inflater: a connection holds no compression state, idle or not.
// Inbound, RSV1 is accepted on the first frame of a data message only
// (without the extension RSV1 stays 1002); the message is assembled
// compressed (at most a little over limits.max_message_bytes), then
// inflated on the read path with limits.max_message_bytes as a cap on the
// result (1009 as soon as it passes) and checked as UTF-8 if text (1007);
// data that does not inflate is 1007. Outbound, Send and SendFrame
// compress data messages of at least compression.min_size bytes for the
// one connection, and send them plain when compression would not shrink
// them; SendPrepared shares one compressed frame per window size among all
// the connections a Prepared message goes to (a room's fan-out). Control
// frames are never compressed. A connection that did not negotiate the
// extension pays one byte compare per send.
//
// # TLS
//
// With server.tls (tls.go) the listener speaks only TLS, and a TLS
// connection is driven by its event loop like a plain one, with no
// goroutine while it is idle. Only the TLS handshake runs on a goroutine
// (tlshandshake.go): crypto/tls cannot resume a handshake after an error,
// so it runs in blocking style on the accepted socket, waiting for
// readiness on the one-shot poller (a channel, not a blocked thread) within
// handshake.timeout counted from accept; admission already counts the
// socket as a handshake, so max_concurrent and max_handshakes_per_address
// bound these goroutines. The handshake done, the socket becomes a Conn in
// the handshake state with its tls.Conn, and everything after (the HTTP
// request, frames, writes) runs on the loop (tlsconn.go): crypto/tls reads
// ciphertext through a transport whose EAGAIN is a temporary net.Error,
// which crypto/tls survives keeping its partial record, so the loop reads
// plaintext until that error and only then waits for epoll; nothing is
// left in crypto/tls's buffer that epoll cannot see, and when reading
// stops early (read budget, full queue) a read is posted to the loop
// instead. Writes are encrypted at the end of the wake, one batch per
// connection; ciphertext the socket does not take waits in a pending
// buffer, counted in write_budget_bytes (crypto/tls treats every write
// error as fatal, so the transport never reports a full socket). Plain
// HTTP to a TLS listener gets 400, as from net/http. An idle TLS
// connection costs crypto/tls's state on top of a plain one's:
// docs/BENCHMARKS.md, "Issue 12: TLS". Certificates are reloaded on a
// change of their files (polled) or by ReloadTLS; a handshake takes the
// configuration current when it starts, so open connections are never
// affected.
//
// # Failures
//
// A panic in a connection's code, on its actor or in a loop callback,
// closes that connection with 1011 and nothing else.
//
// # Closing
//
// Once chatd has decided to close a connection (its close frame is queued,
// or the input broke the protocol) it reads on only to see the peer's close
// frame or EOF, and at most limits.closing_read_bytes of it; a peer that
// sends more is dropped at once instead of being read and decoded until
// close_timeout.
//
// # Timeouts
//
// One sweeper goroutine enforces the timeouts that need a clock: a frame or
// a fragmented message left incomplete too long (4002, timed from its first
// byte, control frames in between not restarting it), keepalive pings and
// dead peers (4003), the close handshake, and lingering sockets. It also
// forgets idle addresses and sums refusals into one warning at most every
// ten seconds. Per connection it only reads atomics and posts to actors'
// system lanes.
//
// # Close codes
//
// Protocol outcomes are values: every close carries a code and a reason, and
// the connection's close is logged with both. docs/PROTOCOL.md has the table.
//
// # Configuration
//
// Config is the server: section of chatd.yaml, owned here: DefaultConfig
// holds every default and Validate names each bad key by its path
// (server.limits.queue_size). New refuses an invalid Config. Nothing else of
// the file is known here: cmd/chatd composes the sections (chat, auth,
// bridge, ...), so building this package pulls in no storage, token or
// password library and no auth backend (TestServerDependencies).
//
// A running server takes some of its settings again (Reconfigure, which
// chatd calls on SIGHUP): allowed_origins, the connection limits, the
// handshake's timeout, concurrency and header size, limits.* but queue_size,
// keepalive.*, close_timeout, compression.min_size. They live in an immutable snapshot behind an
// atomic pointer, loaded where a value is used, and admission's limits under
// its mutex; reconfigure.go says when each applies. The rest (the listener,
// event_loops, echo, compression.enabled and level, queue_size) is fixed
// by New.
package server
