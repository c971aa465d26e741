// Package wsframe decodes and encodes RFC 6455 frames for the server side of
// a connection, without doing any I/O.
//
// A Decoder is fed whatever bytes a non-blocking read returned, however they
// are split: half a header, three frames at once, one byte at a time. It keeps
// at most a 14-byte header stash plus the message being assembled, so the
// caller's read buffer can go back to its pool as soon as Decode has consumed
// it. A partial frame therefore waits in the Decoder, never in a blocked
// goroutine.
//
// Decode enforces the server rules of RFC 6455: client frames must be masked;
// reserved bits and opcodes are rejected; control frames are at most 125
// bytes and never fragmented; continuation state is tracked; text is valid
// UTF-8, checked incrementally so that an invalid sequence fails as soon as it
// arrives, including across fragments; close payloads and codes are
// validated; a message larger than MaxMessage fails with 1009. Every violation
// is an *Error carrying the close code to send.
//
// With Deflate set (permessage-deflate negotiated), RSV1 on the first frame
// of a data message marks it compressed: the message is assembled as it
// came, within CompressedLimit(MaxMessage), and returned with Compressed
// set, for the caller to inflate, limit and check as UTF-8. RSV1 anywhere
// else is still 1002.
//
// Completed data messages own a freshly allocated payload: nothing returned
// aliases the caller's buffer. A Decoder is not safe for concurrent use; the
// server gives each connection its own and only one reader touches it at a
// time.
package wsframe
