// Package wstest is a raw WebSocket client for conformance tests: it speaks
// RFC 6455 when asked to and breaks it on purpose when a test needs that.
//
// A Conn is a plain TCP connection that went through a real HTTP upgrade
// handshake. Nothing is validated on the way out: a test builds any frame it
// likes (reserved bits, reserved opcodes, unmasked, oversized control frames,
// lying lengths) with Frame or EncodeFrame and writes it whole, in pieces, or
// glued to other frames with WriteRaw. On the way in, everything is checked
// against what a server may send: a masked server frame, non-zero RSV bits
// (no extension is ever negotiated), a reserved opcode, a fragmented or
// oversized control frame, a malformed close payload or a broken
// fragmentation sequence is reported as an error wrapping one of the Err
// sentinels.
//
// Every read and write runs under a deadline (the Conn's timeout unless the
// call takes its own), so a misbehaving server fails a test instead of
// hanging it; nothing in this package sleeps to synchronise.
//
// Writes come in four shapes: Write (one write call per frame),
// WriteCoalesced (all frames in one write call), WriteBytewise (one byte per
// write call) and WriteRaw (any bytes). Send and SendRaw fail a testing.TB on
// error instead of returning it.
//
// The Expect methods take a testing.TB and fail it with a precise message:
// ExpectMessage and ExpectPong for the next message, ExpectClose for the
// closing handshake (it answers the server's close the way a good client
// does, then demands that the server end the TCP connection), ExpectEOF for
// "nothing more, and the connection ends". ExpectClose skips (and logs) data
// that arrives before the close; ExpectCloseNext does not allow any.
//
// Close codes are judged by gobwas/ws CheckCloseFrameData, which follows
// Autobahn: a server close with 1004-1006, 1012-1016, below 1000 or from
// 5000 up is reported as ErrClosePayload.
package wstest
