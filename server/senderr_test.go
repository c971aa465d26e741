package server_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// overrunner answers its first message by sending until Send refuses, and
// reports the errors: the refusal, and Send's answer once more after it.
type overrunner struct {
	c    *server.Conn
	errs chan<- [2]error
}

func (o overrunner) Message(server.MessageType, []byte) {
	frame := make([]byte, 16<<10)
	for range 10_000 {
		if err := o.c.Send(server.Binary, frame); err != nil {
			o.errs <- [2]error{err, o.c.SendText([]byte("after"))}
			return
		}
	}
	o.errs <- [2]error{}
}

func (overrunner) Notify(any)                       {}
func (overrunner) Closed(server.StatusCode, string) {}

// TestSendErrors: past the write budget Send says ErrSlowConsumer (and the
// connection is dropped, 4008 logged), and from then on ErrClosed: a
// session is told, never left believing a dropped frame was sent.
func TestSendErrors(t *testing.T) {
	errs := make(chan [2]error, 1)
	ts := testserver.StartWith(t, func(c *server.Config) { c.Limits.WriteBudgetBytes = 256 << 10 },
		map[string]server.Endpoint{"/o": server.EndpointFunc(func(c *server.Conn) server.Session { return overrunner{c, errs} })})
	c := wstest.Dial(t, ts.URL("/o"), wstest.WithReceiveBuffer(4096))
	c.SendText(t, "go") // then never read
	var got [2]error
	select {
	case got = <-errs:
	case <-time.After(10 * time.Second):
		t.Fatal("the session never got its answer")
	}
	if !errors.Is(got[0], server.ErrSlowConsumer) || !errors.Is(got[1], server.ErrClosed) {
		t.Fatalf("Send errors %v then %v, want ErrSlowConsumer then ErrClosed", got[0], got[1])
	}
	waitFor(t, 5*time.Second, "the 4008 logged", func() bool { return hasCode(ts.CloseCodes(), ws.StatusCode(server.CloseSlowConsumer)) })
}
