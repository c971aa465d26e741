package server_test

import (
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
)

// panicky echoes, except that the message "boom" panics.
type panicky struct{ c *server.Conn }

func (p panicky) Message(op server.MessageType, b []byte) {
	if string(b) == "boom" {
		panic("endpoint bug")
	}
	p.c.Send(op, b)
}

func (panicky) Notify(any) {}

func (panicky) Closed(server.StatusCode, string) {}

// TestEndpointPanic: a panic in one connection's endpoint closes that
// connection with 1011 and leaves the others running.
func TestEndpointPanic(t *testing.T) {
	ts := testserver.StartWith(t, nil, map[string]server.Endpoint{
		"/panicky": server.EndpointFunc(func(c *server.Conn) server.Session { return panicky{c} }),
	})
	expectPanicCloses(t, ts.URL("/panicky"))
	waitFor(t, 5*time.Second, "failure logged", func() bool {
		return ts.Logs.FilterMessage("connection actor failed").Len() == 1
	})
}

// expectPanicCloses checks, on an echoing endpoint at url whose session
// panics on "boom", that the panic closes its connection with 1011 and
// nothing else: another connection still echoes.
func expectPanicCloses(t *testing.T, url string) {
	t.Helper()
	victim := dialWS(t, url)
	bystander := dialWS(t, url)
	echoOnce(t, victim, "fine")
	if err := victim.WriteText([]byte("boom")); err != nil {
		t.Fatal(err)
	}
	if code := readCloseCode(t, victim, 5*time.Second); code != ws.StatusInternalServerError {
		t.Fatalf("close = %d, want 1011", code)
	}
	expectEOF(t, victim, 5*time.Second)
	echoOnce(t, bystander, "unaffected")
}
