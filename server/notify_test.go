package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
)

// notifier echoes each message, then floods its own mailbox with Notify
// values, as deliveries from other users would.
type notifier struct{ c *server.Conn }

func (n notifier) Message(op server.MessageType, p []byte) {
	n.c.Send(op, p)
	for i := 0; i < 4; i++ {
		_ = n.c.Notify(i)
	}
}

func (notifier) Notify(any) {}

func (notifier) Closed(server.StatusCode, string) {}

// TestResumeAfterNotify: reads paused on a mailbox full of Notify values
// resume once those drain; the client's pipelined messages all come back.
func TestResumeAfterNotify(t *testing.T) {
	ts := testserver.StartWith(t, func(c *server.Config) { c.Limits.QueueSize = 4 },
		map[string]server.Endpoint{"/notify": server.EndpointFunc(func(c *server.Conn) server.Session { return notifier{c} })})
	c := dialWS(t, ts.URL("/notify"))
	const n = 500
	var batch []byte
	for i := 0; i < n; i++ {
		m := fmt.Sprintf("m%03d", i)
		batch = append(batch, maskedHeader(ws.OpText, true, len(m))...)
		batch = append(batch, m...)
	}
	c.SetTimeout(0)                       // the write below: as long as it takes
	go func() { _ = c.WriteRaw(batch) }() // the echoes are read meanwhile
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < n; i++ {
		got, err := c.ReadText(time.Until(deadline))
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		if want := fmt.Sprintf("m%03d", i); got != want {
			t.Fatalf("echo %d = %q, want %q", i, got, want)
		}
	}
}
