package wstest

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/klauspost/compress/flate"
)

// permessage-deflate (RFC 7692) on the client side, for tests of a server
// that negotiates it. A Conn dialled WithDeflate offers it; when the server
// accepts, every read inflates compressed messages (RSV1 on a message's
// first frame) before returning them, and Deflate/Deflated compress what
// the test sends. Without a negotiated extension RSV1 stays an error
// (ErrReservedBits), as before.

// ErrDeflateResponse: the server's permessage-deflate response is not a
// valid answer to any of the offers (RFC 7692 7.1); the client must fail
// the connection.
var ErrDeflateResponse = errors.New("server's permessage-deflate response answers no offer")

// ErrInflate: a compressed server message does not inflate.
var ErrInflate = errors.New("server's compressed message does not inflate")

// DeflateOffer is one permessage-deflate offer (RFC 7692 7.1). The zero
// value is the plain offer, "permessage-deflate".
type DeflateOffer struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	// ServerMaxWindowBits: 0 to leave it out, else 8 to 15.
	ServerMaxWindowBits int
	// ClientMaxWindowBits: 0 to leave it out, -1 for the parameter
	// without a value ("I can limit my window"), else 8 to 15.
	ClientMaxWindowBits int
	// Extra parameters, written as they are after the others (for offers
	// a server must decline: unknown or repeated parameters).
	Extra [][2]string
}

// option encodes o for the upgrade request.
func (o DeflateOffer) option() httphead.Option {
	opt := httphead.Option{Name: []byte(wsflate.ExtensionName)}
	if o.ServerNoContextTakeover {
		opt.Parameters.Set([]byte("server_no_context_takeover"), nil)
	}
	if o.ClientNoContextTakeover {
		opt.Parameters.Set([]byte("client_no_context_takeover"), nil)
	}
	if o.ServerMaxWindowBits != 0 {
		opt.Parameters.Set([]byte("server_max_window_bits"), fmt.Appendf(nil, "%d", o.ServerMaxWindowBits))
	}
	switch {
	case o.ClientMaxWindowBits == -1:
		opt.Parameters.Set([]byte("client_max_window_bits"), nil)
	case o.ClientMaxWindowBits != 0:
		opt.Parameters.Set([]byte("client_max_window_bits"), fmt.Appendf(nil, "%d", o.ClientMaxWindowBits))
	}
	for _, kv := range o.Extra {
		var v []byte
		if kv[1] != "" {
			v = []byte(kv[1])
		}
		opt.Parameters.Set([]byte(kv[0]), v)
	}
	return opt
}

// WithDeflate offers permessage-deflate, with offers in order of
// preference (none: the plain offer). Conn.Deflate reports what the server
// accepted; a response that answers none of the offers fails the dial
// with ErrDeflateResponse.
func WithDeflate(offers ...DeflateOffer) Option {
	if len(offers) == 0 {
		offers = []DeflateOffer{{}}
	}
	return func(o *options) { o.deflate = offers }
}

// DeflateParams is what a server accepted: the parameters of its response.
type DeflateParams struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	// ServerMaxWindowBits, ClientMaxWindowBits: 0 when absent.
	ServerMaxWindowBits int
	ClientMaxWindowBits int
}

// clientDeflate is a Conn's negotiated permessage-deflate.
type clientDeflate struct {
	params DeflateParams
	// w compresses what the test sends; with client context takeover it
	// keeps its window from one message to the next. Guarded by the
	// Conn's wmu when used by Deflated; tests that call Deflate from
	// several goroutines must not share a Conn.
	w   *flate.Writer
	out bytes.Buffer // w's output for one message
	// r inflates server messages; window is the last 32 KiB the server
	// sent, kept when the server takes over its context. Reader only.
	r      io.ReadCloser
	window []byte
}

// acceptDeflate checks the server's extensions against the offers and
// returns the negotiated state, or nil if the server accepted none.
func acceptDeflate(offers []DeflateOffer, exts []httphead.Option) (*clientDeflate, error) {
	var resp *httphead.Option
	for i := range exts {
		if string(exts[i].Name) == wsflate.ExtensionName {
			if resp != nil {
				return nil, fmt.Errorf("%w: accepted twice", ErrDeflateResponse)
			}
			resp = &exts[i]
		}
	}
	if resp == nil {
		return nil, nil
	}
	var p wsflate.Parameters
	if err := p.Parse(*resp); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDeflateResponse, err)
	}
	if p.ClientMaxWindowBits == 1 {
		return nil, fmt.Errorf("%w: client_max_window_bits without a value", ErrDeflateResponse)
	}
	got := DeflateParams{
		ServerNoContextTakeover: p.ServerNoContextTakeover,
		ClientNoContextTakeover: p.ClientNoContextTakeover,
		ServerMaxWindowBits:     int(p.ServerMaxWindowBits),
		ClientMaxWindowBits:     int(p.ClientMaxWindowBits),
	}
	for _, o := range offers {
		if answers(o, got) {
			return &clientDeflate{params: got}, nil
		}
	}
	return nil, fmt.Errorf("%w: %+v", ErrDeflateResponse, got)
}

// answers reports whether response r is a valid answer to offer o (RFC
// 7692 7.1.1, 7.1.2): a server_max_window_bits no larger than offered
// (any if not offered), client_max_window_bits only if offered (no larger
// than its value), server_no_context_takeover if offered.
func answers(o DeflateOffer, r DeflateParams) bool {
	if o.ServerNoContextTakeover && !r.ServerNoContextTakeover {
		return false
	}
	if o.ServerMaxWindowBits != 0 && (r.ServerMaxWindowBits == 0 || r.ServerMaxWindowBits > o.ServerMaxWindowBits) {
		return false
	}
	switch {
	case r.ClientMaxWindowBits == 0:
	case o.ClientMaxWindowBits == 0:
		return false
	case o.ClientMaxWindowBits > 0 && r.ClientMaxWindowBits > o.ClientMaxWindowBits:
		return false
	}
	return true
}

// Deflate returns the parameters the server accepted, and false if
// permessage-deflate was not negotiated.
func (c *Conn) Deflate() (DeflateParams, bool) {
	if c.deflate == nil {
		return DeflateParams{}, false
	}
	return c.deflate.params, true
}

// Compress returns p compressed as one message's payload under the
// negotiated parameters (the final 0x00 0x00 0xff 0xff removed): a window
// no larger than the server allowed, and a fresh context for each message
// if the server asked for client_no_context_takeover. It panics if
// permessage-deflate was not negotiated. Messages must be sent in the
// order they were compressed when the context is taken over.
func (c *Conn) Compress(p []byte) []byte {
	d := c.deflate
	if d == nil {
		panic("wstest: Compress without permessage-deflate")
	}
	d.out.Reset()
	if d.w == nil {
		var err error
		if bits := d.params.ClientMaxWindowBits; bits != 0 && bits < 15 {
			d.w, err = flate.NewWriterWindow(&d.out, 1<<bits)
		} else {
			d.w, err = flate.NewWriter(&d.out, flate.BestSpeed)
		}
		if err != nil {
			panic(err)
		}
	} else if d.params.ClientNoContextTakeover {
		d.w.Reset(&d.out)
	} // else the writer goes on with its window: context takeover
	_, _ = d.w.Write(p)
	_ = d.w.Flush()
	b := bytes.Clone(d.out.Bytes())
	if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
		panic("wstest: flush did not end with 0x00 0x00 0xff 0xff")
	}
	return b[:len(b)-4]
}

// Deflated returns a final, masked, compressed (RSV1) data frame of op
// carrying p; see Compress.
func (c *Conn) Deflated(op ws.OpCode, p []byte) Frame {
	return Frame{Fin: true, Rsv: rsv1, OpCode: op, Masked: true, Payload: c.Compress(p)}
}

// DeflatedSplit returns p compressed (see Compress) and cut into frames of
// at most size bytes of compressed payload: the first carries op and RSV1,
// the others are continuations (RFC 7692 6.1).
func (c *Conn) DeflatedSplit(op ws.OpCode, p []byte, size int) []Frame {
	z := c.Compress(p)
	var cuts []int
	for i := size; i < len(z); i += size {
		cuts = append(cuts, i)
	}
	frames := Split(op, z, cuts...)
	frames[0].Rsv = rsv1
	return frames
}

// rsv1 is RSV1 in Frame.Rsv.
const rsv1 = 4

// inflate returns the message a compressed payload stands for.
func (d *clientDeflate) inflate(p []byte) ([]byte, error) {
	in := io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))
	var dict []byte
	if !d.params.ServerNoContextTakeover {
		dict = d.window
	}
	if d.r == nil {
		d.r = flate.NewReaderDict(in, dict)
	} else if err := d.r.(flate.Resetter).Reset(in, dict); err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(d.r, maxFrame+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInflate, err)
	}
	if len(out) > maxFrame {
		return nil, fmt.Errorf("wstest: %w: inflated message over %d bytes", ErrTooLong, maxFrame)
	}
	if !d.params.ServerNoContextTakeover {
		d.window = append(d.window, out...)
		if over := len(d.window) - wsflate.MaxLZ77WindowSize; over > 0 {
			d.window = append(d.window[:0], d.window[over:]...)
		}
	}
	return out, nil
}
