package chat_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chatd/chatd/server/chat"
)

// TestLeaveRejoinNoStaleOrDuplicate: while bob floods a room, alice leaves
// it and at once rejoins with since; messages posted to her before the
// leave took effect never come after her "left", and after the "joined"
// every message is the next seq from since on: the replay, then live, with
// no stale live message of her first membership in between.
func TestLeaveRejoinNoStaleOrDuplicate(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) {
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6
		c.Rooms.Presence = false
		c.History.Messages = 10000
	}})
	alice, _ := e.loginJSON(t, "alice", nil)
	bob, _ := e.loginJSON(t, "bob", nil)
	for _, c := range []*client{alice, bob} {
		c.sendJSON(map[string]any{"type": "join", "room": "dev"})
		c.expect(map[string]any{"type": "joined", "room": "dev"})
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			b, _ := json.Marshal(map[string]any{"room": "dev", "data": i})
			if bob.c.WriteText(b) != nil { // within the Conn's 5 s
				return
			}
			time.Sleep(200 * time.Microsecond) // a steady stream alice keeps up with
		}
	}()
	defer func() { close(stop); <-done }()

	var last float64
	inRoom := true
	for round := 0; round < 20; round++ {
		// Read a few, then leave and rejoin without reading in between.
		for n := 0; n < 5; {
			m := alice.next()
			if m["type"] == "message" && m["room"] == "dev" {
				if !inRoom {
					t.Fatalf("round %d: seq %v after left", round, m["seq"])
				}
				if seq := m["seq"].(float64); last != 0 && seq != last+1 {
					t.Fatalf("round %d: seq %v after %v", round, seq, last)
				}
				last = m["seq"].(float64)
				n++
			}
		}
		alice.sendJSON(map[string]any{"type": "leave", "room": "dev"})
		since := last // what alice has when she asks; more may be on the way
		alice.sendJSON(map[string]any{"type": "join", "room": "dev", "since": since})
		for {
			m := alice.next()
			switch {
			case m["type"] == "left":
				inRoom = false
				continue
			case m["type"] == "joined":
				if m["recovered"] != true {
					t.Fatalf("rejoin not recovered: %v", m)
				}
				// The replay starts after since: what came between since
				// and "left" comes again, as asked for.
				inRoom, last = true, since
			case m["type"] == "message" && m["room"] == "dev":
				if !inRoom {
					t.Fatalf("round %d: seq %v after left", round, m["seq"])
				}
				if seq := m["seq"].(float64); seq != last+1 {
					t.Fatalf("round %d: seq %v after %v", round, seq, last)
				}
				last = m["seq"].(float64)
				continue
			default:
				continue
			}
			break
		}
	}
}
