package deflate

import (
	"bytes"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// DefaultBits is the LZ77 window, as a power of two, that chatd uses when
// the client sets no server_max_window_bits: RFC 7692's default, 32 KiB.
const DefaultBits = 15

// MinBits is the smallest window RFC 7692 lets an offer ask for (256 bytes).
const MinBits = 8

// Negotiator negotiates permessage-deflate for one handshake: set it as the
// ws.Upgrader's Negotiate callback (its method value), then read Bits.
// The zero value is ready to use. It is not safe for concurrent use.
//
// It parses offers with wsflate but does not use wsflate.Extension, whose
// Negotiate answers every offer with one fixed set of parameters: it would
// either decline every server_max_window_bits offer or answer one with a
// larger window than offered (RFC 7692 7.1.2.1 forbids both), and it lets a
// repeated client_max_window_bits without a value through.
type Negotiator struct {
	// Bits is the window (2^Bits bytes) chatd may use to compress the
	// messages it sends on this connection: the accepted offer's
	// server_max_window_bits, or DefaultBits. It is 0 while no offer has
	// been accepted, which means the connection is not compressed.
	Bits uint8
}

// Negotiate is the ws.Upgrader's Negotiate callback. It returns the
// response to the first offer of permessage-deflate it can honour and a
// zero Option (nothing accepted) for every other option: other extensions,
// offers after the accepted one, and offers ParseOffer rejects. It never
// fails the handshake.
func (n *Negotiator) Negotiate(opt httphead.Option) (httphead.Option, error) {
	if n.Bits != 0 || !bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
		return httphead.Option{}, nil
	}
	offer, ok := ParseOffer(opt)
	if !ok {
		return httphead.Option{}, nil
	}
	resp := wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	n.Bits = DefaultBits
	if b := offer.ServerMaxWindowBits; b.Defined() {
		// The response must repeat it, with the same or a smaller value
		// (RFC 7692 7.1.2.1); chatd uses it as offered.
		n.Bits = uint8(b)
		resp.ServerMaxWindowBits = b
	}
	return resp.Option(), nil
}

// ParseOffer parses one permessage-deflate offer and reports whether it is
// valid (RFC 7692 7.1): only the four parameters the RFC defines, each at
// most once; window bits from 8 to 15, written without leading zeros;
// server_max_window_bits with a value, the no_context_takeover ones
// without. client_max_window_bits may come with or without a value (1 in
// the result means "without").
//
// It is wsflate.Parameters.Parse plus the two checks that Parse misses: a
// repeated client_max_window_bits without a value, and leading zeros.
func ParseOffer(opt httphead.Option) (wsflate.Parameters, bool) {
	var p wsflate.Parameters
	if err := p.Parse(opt); err != nil {
		return p, false
	}
	clientBits := 0
	ok := true
	opt.Parameters.ForEach(func(key, val []byte) bool {
		switch string(key) {
		case "client_max_window_bits":
			clientBits++
		case "server_max_window_bits":
		default:
			return true
		}
		if len(val) > 1 && val[0] == '0' {
			ok = false
		}
		return ok
	})
	return p, ok && clientBits <= 1
}
