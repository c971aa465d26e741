package deflate

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// FuzzNegotiate feeds Sec-WebSocket-Extensions values to the Negotiator
// the way ws.Upgrader does (one call per option). Whatever the header, it
// accepts at most one offer; what it answers parses, never asks for more
// than the offer allowed, and always carries both no_context_takeover
// parameters; Bits is set exactly when an offer was accepted.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=9; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=8, permessage-deflate",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits=15",
		"permessage-deflate; x=1, permessage-deflate; server_max_window_bits=10",
		"permessage-deflate; client_max_window_bits; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=\"10\"",
		"permessage-deflate; server_max_window_bits=010",
		"x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=16",
		"permessage-deflate;;, ,",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		var n Negotiator
		var accepted []httphead.Option
		var offered []wsflate.Parameters
		opts, ok := httphead.ParseOptions([]byte(header), nil)
		if !ok {
			return
		}
		for _, opt := range opts {
			resp, err := n.Negotiate(opt)
			if err != nil {
				t.Fatalf("Negotiate failed the handshake: %v", err)
			}
			if resp.Size() == 0 {
				continue
			}
			p, ok := ParseOffer(opt)
			if !ok {
				t.Fatalf("accepted an offer ParseOffer rejects: %s", opt)
			}
			accepted = append(accepted, resp)
			offered = append(offered, p)
		}
		if len(accepted) > 1 {
			t.Fatalf("accepted %d offers", len(accepted))
		}
		if len(accepted) == 0 {
			if n.Bits != 0 {
				t.Fatalf("Bits %d with nothing accepted", n.Bits)
			}
			return
		}
		var r wsflate.Parameters
		if err := r.Parse(accepted[0]); err != nil {
			t.Fatalf("response %s does not parse: %v", accepted[0], err)
		}
		o := offered[0]
		if !r.ServerNoContextTakeover || !r.ClientNoContextTakeover || r.ClientMaxWindowBits != 0 {
			t.Fatalf("response %s", accepted[0])
		}
		if o.ServerMaxWindowBits.Defined() && r.ServerMaxWindowBits != o.ServerMaxWindowBits {
			t.Fatalf("offer %+v, response %s", o, accepted[0])
		}
		if n.Bits < MinBits || n.Bits > DefaultBits || (r.ServerMaxWindowBits.Defined() && n.Bits != uint8(r.ServerMaxWindowBits)) {
			t.Fatalf("Bits %d for response %s", n.Bits, accepted[0])
		}
	})
}

// FuzzInflate: any payload inflates to at most the limit or fails with
// ErrTooBig or ErrCorrupt, without panicking; and a message compressed by
// Append always inflates back to itself.
func FuzzInflate(f *testing.F) {
	c, _ := NewCompressor(1)
	for _, s := range []string{"", "hello hello hello hello", "\x00", "\xff\xff", "{\"type\":\"message\",\"text\":\"hi\"}"} {
		z, _ := c.Append(nil, []byte(s), DefaultBits)
		f.Add(z, []byte(s), uint16(100), uint8(15))
		f.Add([]byte(s), []byte(s), uint16(10), uint8(9))
	}
	f.Add([]byte{0x03, 0x02, 0x00}, []byte("x"), uint16(0), uint8(8))
	var inf Inflater
	f.Fuzz(func(t *testing.T, payload, msg []byte, limit uint16, bits uint8) {
		out, err := inf.Inflate(payload, int(limit))
		switch {
		case err == nil && len(out) > int(limit):
			t.Fatalf("%d bytes out, limit %d", len(out), limit)
		case err != nil && !errors.Is(err, ErrTooBig) && !errors.Is(err, ErrCorrupt):
			t.Fatalf("unexpected error %v", err)
		}
		bits = MinBits + bits%(DefaultBits-MinBits+1)
		z, ok := c.Append(nil, msg, bits)
		if !ok {
			return
		}
		back, err := inf.Inflate(z, len(msg))
		if err != nil || !bytes.Equal(back, msg) {
			t.Fatalf("round trip of %d bytes at %d bits: %v", len(msg), bits, err)
		}
	})
}
