// Package deflate is chatd's permessage-deflate (RFC 7692): the handshake's
// negotiation, and the compression and inflation of whole messages. It does
// no I/O and knows nothing of connections.
//
// # Negotiation
//
// A Negotiator, one per handshake, is the ws.Upgrader's Negotiate callback.
// It accepts the first permessage-deflate offer it can honour (offers are in
// the client's order of preference) and declines the others, and a bad
// offer (an unknown or repeated parameter, a value out of range), without
// failing the handshake: a declined offer only means an uncompressed
// connection (RFC 7692 5). Every valid offer can be honoured:
//
//   - server_max_window_bits=N (8 to 15): chatd compresses with a window
//     of 2^N bytes (klauspost/compress's NewWriterWindow takes any window
//     from 32 bytes; the standard library's flate cannot shrink its window)
//     and says so in the response;
//   - client_max_window_bits, with or without a value: chatd inflates
//     with a full 32 KiB window, which reads any smaller one, so the
//     response does not limit the client;
//   - server_no_context_takeover, client_no_context_takeover: chatd
//     answers with both, whatever the offer (RFC 7692 7.1.1.1 and 7.1.1.2
//     allow a server to), so no connection keeps a compression or
//     inflation window between messages.
//
// # Memory
//
// With no context taken over, every compressed message is a complete raw
// DEFLATE stream on its own. A Compressor and an Inflater are therefore
// per event loop, not per connection: an idle connection that negotiated
// compression holds nothing more than one that did not, and a message
// compressed once can be sent to any number of connections that use the
// same window.
//
// # Bounds
//
// Inflate stops as soon as the output passes the caller's limit
// (ErrTooBig), so a decompression bomb costs at most the limit in memory and
// the time to produce it, never its full size. Data that is not DEFLATE is
// ErrCorrupt.
//
// # Concurrency
//
// Negotiator, Compressor and Inflater are not safe for concurrent use; the
// server keeps one Compressor and one Inflater per event loop, used only on
// that loop's goroutine. ParseOffer is a pure function.
package deflate
