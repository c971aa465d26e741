package server_test

import (
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// promiser counts every Notify value it is handed, before and after
// Closed. On its first message it blocks until release, so Notify values
// queue up behind it, then closes the connection.
type promiser struct {
	c       *server.Conn
	release chan struct{}
	started chan struct{}

	mu     sync.Mutex
	seen   map[int]bool
	closed bool
	after  int // values handed over after Closed
}

func (p *promiser) Message(server.MessageType, []byte) {
	close(p.started)
	<-p.release
	// Overrun the write budget of a client that does not read: the
	// connection is dropped as a slow consumer right after this event,
	// with the Notify values still queued.
	frame := make([]byte, 1000)
	for i := 0; i < 20000 && p.c.Send(server.Binary, frame) == nil; i++ {
	}
}

func (p *promiser) Notify(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[v.(int)] = true
	if p.closed {
		p.after++
	}
}

func (p *promiser) Closed(server.StatusCode, string) {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}

// TestNotifySettledAfterClose: every value Conn.Notify accepted reaches
// Session.Notify exactly once, even when the connection closes with the
// values still queued (the actor's dead letters), so a session can settle
// the promises they carry.
func TestNotifySettledAfterClose(t *testing.T) {
	p := &promiser{release: make(chan struct{}), started: make(chan struct{}), seen: map[int]bool{}}
	var conn *server.Conn
	ready := make(chan struct{})
	ts := testserver.StartWith(t, func(c *server.Config) {
		c.Limits.MaxMessageBytes = 1024
		c.Limits.WriteBudgetBytes = 4096
	}, map[string]server.Endpoint{"/p": server.EndpointFunc(func(c *server.Conn) server.Session {
		p.c, conn = c, c
		close(ready)
		return p
	})})
	c := wstest.Dial(t, ts.URL("/p"), wstest.WithReceiveBuffer(4096))
	<-ready
	c.SendText(t, "go")
	<-p.started
	accepted := 0
	for i := 0; i < 200; i++ {
		if conn.Notify(i) == nil {
			accepted++
		}
	}
	close(p.release)
	waitFor(t, 5*time.Second, "every accepted value handed to the session", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.seen) == accepted
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.after == 0 {
		t.Fatalf("no value was handed over after Closed: the test did not exercise dead letters (%d accepted)", accepted)
	}
	t.Logf("%d accepted, %d settled after Closed", accepted, p.after)
}
