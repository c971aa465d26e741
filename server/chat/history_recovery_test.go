package chat_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/chat"
)

// TestRecoveryUnderConcurrentSends: while several members send to a room,
// one client keeps leaving (or reconnecting) and joining again with since =
// the last seq it has, and others read the history. The rejoining client gets every
// message exactly once, in seq order, with no gap (each seq is the last
// plus one, across every rejoin); every reader sees consecutive seqs; and
// a seq always stands for the same message, byte for byte, whoever got it
// and however (live, replayed, or from history).
func TestRecoveryUnderConcurrentSends(t *testing.T) {
	const senders, each = 4, 400
	e := start(t, options{
		chat: historyChat(func(h *chat.HistoryConfig) { h.Messages = senders * each; h.MaxBytes = 1 << 20 }),
		// Every member gets bursts of up to all the messages at once: let
		// their connections queue them rather than be closed as slow.
		server: func(c *server.Config) { c.Limits.QueueSize = 4 * senders * each },
	})
	var (
		mu     sync.Mutex
		bySeq  = map[uint64]string{} // the message's JSON, from whoever saw it first
		record = func(t testing.TB, seq uint64, raw string) {
			mu.Lock()
			defer mu.Unlock()
			if old, ok := bySeq[seq]; ok && old != raw {
				t.Errorf("seq %d is two messages:\n%s\n%s", seq, old, raw)
			}
			bySeq[seq] = raw
		}
	)
	sendersC := make([]*client, senders)
	for i := range sendersC {
		sendersC[i] = e.login(t, fmt.Sprint("sender", i))
		sendersC[i].joinAt("dev", -1)
	}
	rejoiner := e.login(t, "rejoiner")
	readers := []*client{e.login(t, "reader0"), e.login(t, "reader1")}
	for _, r := range readers {
		r.joinAt("dev", -1)
	}

	// The senders send as the rejoiner hands out tickets, a batch just
	// before each of its joins, so messages are posted while joins are
	// handled.
	const batch = 24
	tickets := make(chan struct{}, senders*each)
	var wg sync.WaitGroup
	for i, c := range sendersC {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range each {
				<-tickets
				if err := writeJSON(c, map[string]any{"room": "dev", "data": fmt.Sprintf("s%d-%d", i, n)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		// Senders receive the others' messages: drain them so their
		// sockets never fill. The read ends when the test closes the
		// connection.
		go func() {
			for {
				if _, _, err := c.c.ReadData(0); err != nil {
					return
				}
			}
		}()
	}
	for _, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if err := writeJSON(r, map[string]any{"type": "history", "room": "dev", "limit": 50}); err != nil {
					t.Error(err)
					return
				}
				for {
					raw, err := readText(r)
					if err != nil {
						t.Error(err)
						return
					}
					var m struct {
						Type     string
						Seq      uint64
						Messages []json.RawMessage
					}
					_ = json.Unmarshal([]byte(raw), &m)
					if m.Type == "message" {
						record(t, m.Seq, raw)
						continue
					}
					if m.Type != "history" {
						t.Errorf("reader got %s", raw)
						return
					}
					var prev uint64
					for i, msg := range m.Messages {
						var hm struct{ Seq uint64 }
						_ = json.Unmarshal(msg, &hm)
						if i > 0 && hm.Seq != prev+1 {
							t.Errorf("history page not consecutive: %d after %d", hm.Seq, prev)
						}
						prev = hm.Seq
						record(t, hm.Seq, string(msg))
					}
					break
				}
			}
		}()
	}

	// The rejoiner: join with since, read a few messages, leave, again.
	var last uint64
	got := map[string]bool{}
	rounds, stale, given := 0, 0, 0
	for len(got) < senders*each {
		rounds++
		for ; given < min(rounds*batch, senders*each); given++ {
			tickets <- struct{}{}
		}
		rejoiner.sendJSON(map[string]any{"type": "join", "room": "dev", "since": last})
		// Messages the room posted before the last leave took effect may
		// still come after "left": a client ignores a room's messages
		// until it has joined it again (the replay has them).
		var j map[string]any
		for {
			j = rejoiner.next()
			if j["type"] != "message" {
				break
			}
			stale++
		}
		if j["type"] != "joined" || j["recovered"] != true {
			t.Fatalf("round %d: %v", rounds, j)
		}
		if seq, _ := j["seq"].(float64); uint64(seq) < last {
			t.Fatalf("joined seq %v before %d", seq, last)
		}
		take := func(raw string) {
			var m struct {
				Type string
				Seq  uint64
				Data string
			}
			if err := json.Unmarshal([]byte(raw), &m); err != nil || m.Type != "message" {
				t.Fatalf("rejoiner got %s", raw)
			}
			if m.Seq != last+1 {
				t.Fatalf("round %d: seq %d after %d (a gap or a duplicate)", rounds, m.Seq, last)
			}
			if got[m.Data] {
				t.Fatalf("%s twice", m.Data)
			}
			got[m.Data], last = true, m.Seq
			record(t, m.Seq, raw)
		}
		// Read up to 5 messages (replayed or live), then leave; messages
		// posted before the leave was handled still come, before "left".
		for n := 0; n < 5 && len(got) < senders*each; n++ {
			take(rejoiner.text())
		}
		if rounds%4 == 0 {
			// Now and then a reconnect instead: a new connection (as
			// another user, so no login waits for the old one to go).
			rejoiner.c.Close()
			rejoiner = e.login(t, fmt.Sprint("rejoiner", rounds))
			continue
		}
		rejoiner.sendJSON(map[string]any{"type": "leave", "room": "dev"})
		for {
			raw := rejoiner.text()
			if strings.Contains(raw, `"type":"left"`) {
				break
			}
			take(raw)
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Exactly the messages sent, with seqs 1..N.
	for i := range senders {
		for n := range each {
			if !got[fmt.Sprintf("s%d-%d", i, n)] {
				t.Fatalf("s%d-%d never reached the rejoiner", i, n)
			}
		}
	}
	if last != senders*each {
		t.Fatalf("last seq %d, want %d", last, senders*each)
	}
	mu.Lock()
	defer mu.Unlock()
	for seq := range bySeq {
		if seq < 1 || seq > last {
			t.Fatalf("seq %d outside 1..%d", seq, last)
		}
	}
	t.Logf("%d messages from %d senders; the rejoiner joined %d times (%d messages after left); readers saw %d seqs",
		last, senders, rounds, stale, len(bySeq))
}
