package chat_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/wstest"
)

// TestRoomFanOutCompressedOnce: a lobby message to members that
// negotiated permessage-deflate, spread over two event loops, is
// compressed once in all (the room's Prepared frame), not once per member
// or per loop, and once more for the member that asked for a 512-byte
// window; a member that did not offer compression gets it plain.
func TestRoomFanOutCompressedOnce(t *testing.T) {
	t.Parallel()
	e := start(t, options{server: func(c *server.Config) {
		c.EventLoops = 2
		c.Compression.Enabled = true
	}})
	const n = 8
	var members []*client
	for i := range n + 1 {
		offer := wstest.DeflateOffer{}
		if i == n {
			offer.ServerMaxWindowBits = 9
		}
		c := &client{t: t, c: wstest.Dial(t, e.ts.URL("/ws"), wstest.WithDeflate(offer))}
		if _, ok := c.c.Deflate(); !ok {
			t.Fatal("permessage-deflate not negotiated")
		}
		c.send(fmt.Sprintf("z%d", i))
		if got := c.text(); got != "True" {
			t.Fatalf("login: %q", got)
		}
		members = append(members, c)
	}
	plain := e.login(t, "plain")
	before := e.ts.Srv.CompressionStats()

	text := strings.Repeat("a chat message long enough to be worth compressing. ", 8)
	members[0].sendJSON(map[string]any{"data": text})
	for _, c := range append(members[1:], plain) {
		c.expect(map[string]any{"type": "message", "sender": "z0", "room": "lobby", "data": text})
		want := c != plain
		if got := c.c.LastCompressed(); got != want {
			t.Fatalf("delivery compressed %v, want %v", got, want)
		}
	}
	// Every member has it (the sender gets no copy), so every
	// compression for it is done.
	after := e.ts.Srv.CompressionStats()
	if got := after.Compressed - before.Compressed; got != 2 {
		t.Fatalf("%d compressions for one message to %d compressed members with two window sizes, want 2", got, n)
	}
}
