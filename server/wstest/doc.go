// Package wstest is the WebSocket client of chatd's tests, as zaptest is
// zap's: every package's tests dial, send and read through it, from a chat
// login to a conformance case that breaks RFC 6455 on purpose. Third-party
// clients (Python, Node, Chromium) are used only where a test is about
// interoperating with them. It sits outside server/internal so that the
// tests of cmd/ can use it too (as auth/authtest serves every backend); only
// tests import it, and it imports nothing of chatd.
//
// A Conn is a plain TCP connection that went through a real HTTP upgrade
// handshake: Dial makes one (failing the test and closing it at the test's
// end), DialContext makes one for code without a testing.TB or for many
// dials under one context, and NewConn wraps a connection whose handshake
// the test wrote by hand. Options shape the dial: WithTimeout, WithHeader and
// WithRawHeader (lines written as they are), WithProtocols (the chosen one
// is Conn.Protocol), WithReceiveBuffer (a small SO_RCVBUF, so that a
// client that stops reading backs the server's writes up at once) and
// WithLocalAddr (a source address of 127.0.0.0/8, for per-address limits).
//
// # Timeouts
//
// Every read and write runs under a deadline, so a misbehaving server fails
// a test instead of hanging it; nothing in this package sleeps to
// synchronise. The methods that fail a testing.TB use the Conn's timeout
// (DefaultTimeout, WithTimeout, SetTimeout); the ones that return an error
// take their own. A timeout of 0 means no deadline, for a benchmark's
// long-lived reader.
//
// # Talking like an application
//
// SendText, SendBinary and SendJSON write one final, masked frame.
// ReadData reads the way a browser's client does: fragments assembled,
// pings answered with pongs, pongs skipped, a close answered and returned as
// a *CloseError. On top of it, ReadText wants a text message, NextText and
// NextJSON return the next text message or fail the test, ExpectText
// compares it, and ExpectQuiet demands that nothing arrive for a while.
// ReadCloseFrame and ExpectCloseFrame read up to the server's close and
// return its code; ReadEOF and ExpectEOF demand that the connection end.
//
// # Breaking the protocol on purpose
//
// Nothing is validated on the way out: a test builds any frame it likes
// (reserved bits, reserved opcodes, unmasked, oversized control frames, lying
// lengths) with Frame, EncodeFrame or EncodeHeader and writes it whole, in
// pieces, or glued to other frames. Writes come in four shapes: Write (one
// write call per frame), WriteCoalesced (all frames in one write call),
// WriteBytewise (one byte per write call) and WriteRaw (any bytes). Send and
// SendRaw fail a testing.TB on error instead of returning it.
//
// # Compression
//
// WithDeflate offers permessage-deflate (RFC 7692), one or more offers
// (DeflateOffer); Dial checks the server's answer against them and fails
// with ErrDeflateResponse on an answer RFC 7692 forbids. Deflate reports
// what was accepted. Reads then inflate compressed messages (RSV1 on
// their first frame) before returning them, and LastCompressed tells
// whether the last one came compressed; Compress, Deflated and
// DeflatedSplit compress what a test sends, honouring the answer's
// client_no_context_takeover and client_max_window_bits.
//
// On the way in, everything is checked against what a server may send: a
// masked server frame, non-zero RSV bits (RSV1 allowed only on the first
// frame of a data message with permessage-deflate negotiated), a
// reserved opcode, a fragmented or oversized control frame, a malformed close
// payload, a text message that is not UTF-8 or a broken fragmentation
// sequence is reported as an error wrapping one of the Err sentinels, by
// every read, the application-level ones included. ReadFrame returns frames
// as they come; ReadMessage assembles fragments but returns control frames
// unanswered.
//
// The Expect methods fail the test with a precise message: ExpectMessage
// and ExpectPong for the next message, ExpectClose for the closing handshake
// (it answers the server's close the way a good client does, then demands
// that the server end the TCP connection), ExpectEOF for "nothing more, and
// the connection ends". ExpectClose skips (and logs) data that arrives before
// the close; ExpectCloseNext does not allow any.
//
// Close codes are judged by gobwas/ws CheckCloseFrameData, which follows
// Autobahn: a server close with 1004-1006, 1012-1016, below 1000 or from
// 5000 up is reported as ErrClosePayload.
//
// # Concurrency
//
// One goroutine may read while another writes; Close and SetTimeout may be
// called at any time (see Conn).
package wstest
