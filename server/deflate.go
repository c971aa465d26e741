package server

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/internal/deflate"
	"github.com/chatd/chatd/server/internal/wsframe"
)

// permessage-deflate (RFC 7692) on the connections that negotiated it
// (Conn.deflate, the window bits chatd compresses with; 0: not
// negotiated). Nothing of it is per connection: with no context takeover
// each message is compressed and inflated on its own, with the loop's
// Compressor and Inflater (loopDeflate), so an idle connection costs the
// same with compression as without.

// loopDeflate is a loop's compression state. Loop only.
type loopDeflate struct {
	comp *deflate.Compressor // nil when server.compression is off
	inf  deflate.Inflater
	// scratch holds the frames of one send while it is compressed; it is
	// copied into the connection's output, then reused (dropped when a
	// big message grew it past scratchKeep).
	scratch []byte
}

// scratchKeep is the largest scratch buffer a loop keeps between sends.
const scratchKeep = 64 << 10

// deflateStats counts compression work, server-wide (CompressionStats).
type deflateStats struct {
	compressed, plainBytes, compressedBytes, inflated atomic.Uint64
}

// CompressionStats is what permessage-deflate has done since the server
// started.
type CompressionStats struct {
	// Compressed counts messages compressed: a Prepared message counts
	// once per window size, however many connections it is sent to.
	Compressed uint64
	// PlainBytes and CompressedBytes are the payload sizes of the
	// compressed messages before and after.
	PlainBytes, CompressedBytes uint64
	// Inflated counts compressed messages received and inflated.
	Inflated uint64
}

// CompressionStats returns the counts of permessage-deflate work.
func (s *Server) CompressionStats() CompressionStats {
	return CompressionStats{
		Compressed:      s.zstats.compressed.Load(),
		PlainBytes:      s.zstats.plainBytes.Load(),
		CompressedBytes: s.zstats.compressedBytes.Load(),
		Inflated:        s.zstats.inflated.Load(),
	}
}

// appendCompressed appends payload as one compressed message of opcode op
// to dst, header included, and reports whether it did: false (dst
// unchanged) when compression would not make the message smaller.
func (c *Conn) appendCompressed(dst []byte, op ws.OpCode, payload []byte) ([]byte, bool) {
	var hdr [MaxFrameHeader]byte
	start := len(dst)
	dst = append(dst, hdr[:]...) // room for the longest header
	z, ok := c.loop.z.comp.Append(dst, payload, c.deflate)
	if !ok {
		return dst[:start], false
	}
	n := len(z) - start - MaxFrameHeader
	h := wsframe.AppendCompressedHeader(hdr[:0], op, n)
	// Move the payload up against its header.
	copy(z[start+len(h):], z[start+MaxFrameHeader:])
	copy(z[start:], h)
	s := &c.srv.zstats
	s.compressed.Add(1)
	s.plainBytes.Add(uint64(len(payload)))
	s.compressedBytes.Add(uint64(n))
	return z[:start+len(h)+n], true
}

// compressible reports whether a data message of n bytes is compressed on
// this connection.
func (c *Conn) compressible(n int) bool {
	return c.deflate != 0 && n >= c.srv.settings().compressMinSize
}

// sendCompressed sends payload compressed if that makes it smaller, and
// reports whether it handled the send (err is then the send's outcome).
func (c *Conn) sendCompressed(op ws.OpCode, payload []byte) (handled bool, err error) {
	z, ok := c.appendCompressed(c.loop.z.scratch[:0], op, payload)
	if !ok {
		return false, nil
	}
	err = c.sendErr(z, nil)
	c.keepScratch(z)
	return true, err
}

// sendFrameCompressed is SendFrame on a connection with compression: each
// unfragmented data frame of f long enough is compressed (if that makes it
// smaller); the others are copied as they are. It reports false when
// nothing was compressed, so f goes out untouched.
func (c *Conn) sendFrameCompressed(f Frame) (handled bool, err error) {
	out := c.loop.z.scratch[:0]
	compressed := false
	for rest := []byte(f); len(rest) > 0; {
		h, hl, ok := wsframe.ServerFrame(rest)
		if !ok {
			// Not frames chatd's encoders make: send f as it is.
			return false, nil
		}
		end := hl + int(h.Length)
		if h.Fin && h.Rsv == 0 && (h.OpCode == ws.OpText || h.OpCode == ws.OpBinary) && c.compressible(int(h.Length)) {
			var done bool
			if out, done = c.appendCompressed(out, h.OpCode, rest[hl:end]); done {
				compressed = true
				rest = rest[end:]
				continue
			}
		}
		out = append(out, rest[:end]...)
		rest = rest[end:]
	}
	if !compressed {
		c.keepScratch(out)
		return false, nil
	}
	err = c.sendErr(out, nil)
	c.keepScratch(out)
	return true, err
}

func (c *Conn) keepScratch(b []byte) {
	if cap(b) <= scratchKeep {
		c.loop.z.scratch = b[:0]
	} else {
		c.loop.z.scratch = nil
	}
}

// inflate turns m, a compressed message the decoder completed, into the
// message it stands for, limited to limits.max_message_bytes (1009 past
// it, found without inflating the rest) and, for text, checked as UTF-8
// (1007). Data that does not inflate is 1007 too: the payload is not
// what its message says it is (RFC 6455 7.4.1), as Node's ws answers; RFC
// 7692 only says the connection fails.
func (c *Conn) inflate(m wsframe.Message) (wsframe.Message, error) {
	limit := c.srv.settings().maxMessageBytes
	p, err := c.loop.z.inf.Inflate(m.Payload, limit)
	switch {
	case errors.Is(err, deflate.ErrTooBig):
		return m, &wsframe.Error{Code: ws.StatusMessageTooBig, Reason: "message exceeds " + strconv.Itoa(limit) + " bytes once inflated"}
	case err != nil:
		return m, &wsframe.Error{Code: ws.StatusInvalidFramePayloadData, Reason: "invalid compressed data"}
	case m.Op == ws.OpText && !utf8.Valid(p):
		return m, &wsframe.Error{Code: ws.StatusInvalidFramePayloadData, Reason: "invalid UTF-8 in text message"}
	}
	c.srv.zstats.inflated.Add(1)
	m.Payload, m.Compressed = p, false
	return m, nil
}

// Prepared is one message encoded once for many connections, such as a
// room message on its way to every member: its frame, and its compressed
// frames, made on the first send to a connection that negotiated
// permessage-deflate (one per window size; nearly always just the
// default) and then shared by every such connection. Make one with
// Prepare; it is safe for concurrent use.
type Prepared struct {
	frame Frame
	z     atomic.Pointer[preparedZ] // nil until a compressed send
}

// preparedZ holds a Prepared's compressed frames.
type preparedZ struct {
	mu sync.Mutex // guards frames and made
	// frames by window bits - deflate.MinBits; nil when not made or not
	// worth it (made tells which).
	frames [deflate.DefaultBits - deflate.MinBits + 1]Frame
	made   uint8
}

// Prepare returns f, one encoded message, ready to send to many
// connections with SendPrepared. f must not be modified afterwards. Only
// a single unfragmented data frame (as TextFrame and FinishTextFrame make)
// is ever compressed; anything else is sent as it is.
func Prepare(f Frame) *Prepared { return &Prepared{frame: f} }

// Init makes p, a zero Prepared that is part of a larger value, the
// Prepared of f, as Prepare does without an allocation of its own. It must
// be called before p is shared.
func (p *Prepared) Init(f Frame) { p.frame = f }

// Frame returns the uncompressed frame.
func (p *Prepared) Frame() Frame { return p.frame }

// SendPrepared sends p as SendFrame sends a frame: compressed on a
// connection that negotiated permessage-deflate when the message is at
// least server.compression.min_size bytes and compression makes it
// smaller, the compressed frame being made once for all connections.
func (c *Conn) SendPrepared(p *Prepared) error {
	f := p.frame
	if c.state == stateOpen && c.deflate != 0 {
		if z := c.preparedFor(p); z != nil {
			f = z
		}
	}
	err := c.sendErr(f, nil)
	if err == nil {
		c.countOut()
	}
	return err
}

// preparedFor returns p's compressed frame for c's window, making it if no
// connection has yet, or nil when p goes uncompressed. Another loop that
// wants the same frame meanwhile waits for it (the time of one message's
// compression) rather than compressing it again.
func (c *Conn) preparedFor(p *Prepared) Frame {
	h, hl, ok := wsframe.ServerFrame(p.frame)
	if !ok || hl+int(h.Length) != len(p.frame) || !h.Fin || h.Rsv != 0 ||
		(h.OpCode != ws.OpText && h.OpCode != ws.OpBinary) || !c.compressible(int(h.Length)) {
		return nil
	}
	z := p.z.Load()
	if z == nil {
		p.z.CompareAndSwap(nil, &preparedZ{})
		z = p.z.Load()
	}
	i := c.deflate - deflate.MinBits
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.made&(1<<i) == 0 {
		z.made |= 1 << i
		if f, ok := c.appendCompressed(nil, h.OpCode, p.frame[hl:]); ok {
			z.frames[i] = f
		}
	}
	return z.frames[i]
}
