package chat_test

import (
	"testing"
	"time"

	"github.com/chatd/chatd/server/mailbox"
)

// gateBox is a memBox whose LoadPage for one user waits until gate is
// closed: that user's new session stays draining (s.draining) meanwhile.
type gateBox struct {
	*memBox
	user string
	gate chan struct{}
}

func (g *gateBox) LoadPage(user string, after uint64, n, b int, now time.Time) ([]mailbox.Entry, error) {
	if user == g.user {
		<-g.gate
	}
	return g.memBox.LoadPage(user, after, n, b, now)
}

// TestHeldRoomMessagesDroppedOnLeave: a room message held back while a
// session's offline mailbox is written is dropped if the session leaves the
// room meanwhile: nothing of a room comes after its "left", nor a second
// time after a rejoin's replay (a review found it written after both).
func TestHeldRoomMessagesDroppedOnLeave(t *testing.T) {
	for _, rejoin := range []bool{false, true} {
		t.Run(map[bool]string{false: "after-left", true: "after-rejoin"}[rejoin], func(t *testing.T) {
			gb := &gateBox{memBox: newMemBox(1000), user: "bob", gate: make(chan struct{})}
			e := start(t, options{store: gb, chat: historyChat(nil)})
			alice := e.login(t, "alice")
			alice.joinAt("dev", -1)
			bob := e.login(t, "bob") // its mailbox read waits: bob is draining
			bob.joinAt("dev", -1)
			alice.sendJSON(map[string]any{"room": "dev", "data": "one", "id": 1})
			alice.expect(map[string]any{"type": "sent", "ref": 1}) // posted to bob: held
			bob.sendJSON(map[string]any{"type": "leave", "room": "dev"})
			bob.expect(map[string]any{"type": "left"})
			if rejoin {
				bob.joinAt("dev", 0)                                                   // joined recovered:true, seq 1
				bob.expect(map[string]any{"type": "message", "seq": 1, "data": "one"}) // the replay
			}
			close(gb.gate) // the (empty) mailbox is read: the drain ends
			if raw, err := bob.c.ReadText(300 * time.Millisecond); err == nil {
				t.Errorf("after the drain ended: %s", raw) // PROTOCOL.md: none after left; each once after joined
			}
		})
	}
}
