package jsmail

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/server/mailbox"
)

// FuzzEntryHeader: what encode writes, decode reads back exactly, and
// parseEntry takes any header value without panicking.
func FuzzEntryHeader(f *testing.F) {
	f.Add(uint64(1763740000125000), int64(1763740000125000000), "alice", "1 2 \"x\"")
	f.Add(uint64(0), int64(-1), "é \"q\"\n\xff", "")
	f.Add(uint64(1<<64-1), int64(0), "", "1 2 \"unterminated")
	f.Fuzz(func(t *testing.T, id uint64, ns int64, sender, raw string) {
		parseEntry(raw)
		e := mailbox.Entry{ID: id, Stored: time.Unix(0, ns), Sender: sender, Data: []byte(raw)}
		m := encode("chatd.mail.x", "m", "chatd_mail", e)
		m.Header.Set(jetstream.SequenceHeader, "7")
		r, err := decode(m)
		if err != nil || !r.ok || r.seq != 7 || r.msgID != "m" {
			t.Fatalf("decode = %+v, %v", r, err)
		}
		if g := r.e; g.ID != e.ID || !g.Stored.Equal(e.Stored) || g.Sender != e.Sender || string(g.Data) != raw {
			t.Fatalf("round trip: %+v, want %+v", g, e)
		}
	})
}
