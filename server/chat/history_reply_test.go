package chat

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chatd/chatd/server/wire"
)

// historyPage is n kept messages of about size bytes of JSON each, as
// publish keeps them (svc.messageFrame), data made of text.
func historyPage(svc *Service, n, size int, text string) []histEntry {
	page := make([]histEntry, n)
	for i := range page {
		m := wire.Message{Type: wire.TypeMessage, ID: 1763740000123000 + uint64(i), Sender: "alice", Room: "dev", TS: 1763740000123, Seq: uint64(i + 1)}
		data := strings.Repeat(text, max(size-120, len(text))/len(text))
		m.Data, _ = json.Marshal(data)
		page[i] = histEntry{seq: m.Seq, ts: m.TS, frame: svc.messageFrame(&m, formatJSON, "")}
	}
	return page
}

// marshalHistory is the reply as json.Marshal writes the wire.History:
// what sendHistory wrote before historyFrame, and what it must equal.
func marshalHistory(svc *Service, room string, page []histEntry, more bool, ref json.RawMessage) []byte {
	reply := wire.History{Type: wire.TypeHistory, Room: room, More: more, Ref: ref, Messages: make([]json.RawMessage, len(page))}
	for i, e := range page {
		reply.Messages[i] = e.body()
	}
	return svc.encode(reply)
}

// historyFrameCases are the replies TestHistoryFrame compares and
// BenchmarkHistoryReply times.
func historyFrameCases(svc *Service) []struct {
	name string
	room string
	page []histEntry
	more bool
	ref  json.RawMessage
} {
	return []struct {
		name string
		room string
		page []histEntry
		more bool
		ref  json.RawMessage
	}{
		{"empty", "dev", nil, false, nil},
		{"empty with ref", "dev", []histEntry{}, false, json.RawMessage(`7`)},
		{"one", "dev", historyPage(svc, 1, 100, "x"), false, nil},
		{"more", "dev", historyPage(svc, 3, 100, "x"), true, json.RawMessage(`"abc"`)},
		{"ref with spaces", "dev", historyPage(svc, 2, 100, "x"), true, json.RawMessage(" { \"a\" : [1, 2.5e3, null] ,\"b\":\"<&>\" } ")},
		{"ref null", "dev", historyPage(svc, 2, 100, "x"), false, json.RawMessage(`null`)},
		{"html and unicode", "<r&d>\u2028é", historyPage(svc, 4, 300, "<script>&\u2029日本\"\\"), true, json.RawMessage(`"<\u2028>"`)},
		{"invalid utf-8 room", "a\xffb", historyPage(svc, 1, 100, "x"), false, json.RawMessage(`1`)},
		{"16-bit length", "dev", historyPage(svc, 20, 1000, "ab"), true, json.RawMessage(`12`)},
		{"64-bit length, 256 KiB", "dev", historyPage(svc, 100, 2621, "a message "), true, json.RawMessage(`1234`)},
		{"100 small", "dev", historyPage(svc, 100, 130, "x"), true, json.RawMessage(`5`)},
	}
}

// TestHistoryFrame: the reply historyFrame builds by copying the kept
// messages is byte for byte what json.Marshal writes for the wire.History,
// frame header included.
func TestHistoryFrame(t *testing.T) {
	svc := &Service{}
	for _, tc := range historyFrameCases(svc) {
		t.Run(tc.name, func(t *testing.T) {
			want := marshalHistory(svc, tc.room, tc.page, tc.more, tc.ref)
			got := historyFrame(tc.room, tc.page, tc.more, tc.ref)
			if string(got) != string(want) {
				t.Fatalf("historyFrame:\n%q\njson.Marshal:\n%q", got, want)
			}
			if cap(got) != len(got) {
				t.Fatalf("len %d cap %d: the size was not computed exactly", len(got), cap(got))
			}
		})
	}
}

// BenchmarkHistoryReply is a history reply's CPU: json.Marshal of the
// wire.History (before) and historyFrame (now), for a page of 100
// messages of 2.6 KB (256 KiB, the default max_bytes) and of 130 B.
func BenchmarkHistoryReply(b *testing.B) {
	svc := &Service{}
	for _, tc := range historyFrameCases(svc) {
		if len(tc.page) != 100 {
			continue
		}
		size := len(historyFrame(tc.room, tc.page, tc.more, tc.ref))
		for _, how := range []string{"marshal", "concat"} {
			b.Run(fmt.Sprintf("%s/%s", tc.name, how), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if how == "marshal" {
						marshalHistory(svc, tc.room, tc.page, tc.more, tc.ref)
					} else {
						historyFrame(tc.room, tc.page, tc.more, tc.ref)
					}
				}
			})
		}
	}
}
