package server_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// flushResult is what the blaster's OnFlushed callback saw for frame i.
type flushResult struct {
	i        int
	accepted bool
	written  bool
}

// blaster answers any message with n numbered frames of size bytes,
// registering an OnFlushed callback after each.
type blaster struct {
	c       *server.Conn
	n, size int
	results chan<- flushResult
}

func (b blaster) Message(server.MessageType, []byte) {
	for i := 0; i < b.n; i++ {
		p := make([]byte, b.size)
		binary.BigEndian.PutUint32(p, uint32(i))
		ok := b.c.Send(server.Binary, p) == nil
		b.c.OnFlushed(func(written bool) { b.results <- flushResult{i: i, accepted: ok, written: written} })
	}
}

func (blaster) Notify(any)                       {}
func (blaster) Closed(server.StatusCode, string) {}

// TestOnFlushedOnlyForWrittenBytes: a client that does not read gets its
// connection dropped as a slow consumer. Every frame whose callback said
// written=true reaches the client when it finally reads, although it keeps
// talking (pings) meanwhile: frames dropped or left unwritten get
// written=false, never true, and chatd's own close never resets what the
// kernel took. Twice: reading everything at once within close_timeout, and
// reading slowly but steadily for much longer than close_timeout (the
// socket lingers while the client makes progress).
func TestOnFlushedOnlyForWrittenBytes(t *testing.T) {
	for _, tc := range []struct {
		name         string
		closeTimeout time.Duration
		pause        time.Duration // between frames read, each followed by a ping
	}{
		{"reads at once", 5 * time.Second, 0},
		{"reads slowly past close_timeout", 200 * time.Millisecond, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) { checkWrittenReachesClient(t, tc.closeTimeout, tc.pause) })
	}
}

func checkWrittenReachesClient(t *testing.T, closeTimeout, pause time.Duration) {
	const n, size = 200, 16 << 10
	results := make(chan flushResult, n)
	ts := testserver.StartWith(t, func(c *server.Config) {
		c.Limits.WriteBudgetBytes = 128 << 10
		c.CloseTimeout = closeTimeout
	}, map[string]server.Endpoint{"/blast": server.EndpointFunc(func(c *server.Conn) server.Session {
		return blaster{c: c, n: n, size: size, results: results}
	})})
	c := wstest.Dial(t, ts.URL("/blast"), wstest.WithReceiveBuffer(4096))
	c.SendText(t, "go")
	got := make([]flushResult, 0, n)
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case r := <-results:
			got = append(got, r)
		case <-deadline:
			t.Fatalf("only %d of %d callbacks ran", len(got), n)
		}
	}
	written := map[int]bool{}
	for i, r := range got {
		if r.i != i {
			t.Fatalf("callback %d ran for frame %d: out of order", i, r.i)
		}
		if r.written {
			if !r.accepted {
				t.Fatalf("frame %d: dropped by the write path but reported written", i)
			}
			written[i] = true
		}
	}
	if len(written) == n {
		t.Fatalf("all %d frames reported written to a client that never read", n)
	}
	ping := wstest.Ping([]byte("ping"))
	for i := 0; i < 20; i++ {
		if err := c.Write(ping); err != nil {
			break
		}
	}
	// Now read everything the kernel holds for us, talking as we go.
	received := map[int]bool{}
	for {
		h, p, err := c.ReadFrame(5 * time.Second)
		if err != nil || h.OpCode == ws.OpClose {
			break
		}
		if len(p) == size {
			received[int(binary.BigEndian.Uint32(p))] = true
		}
		if pause > 0 {
			time.Sleep(pause)
			_ = c.Write(ping)
		}
	}
	for i := range written {
		if !received[i] {
			t.Errorf("frame %d reported written but never reached the client", i)
		}
	}
	t.Logf("%d of %d frames reported written, %d received", len(written), n, len(received))
}

// TestOnFlushedReader: with a client that reads, every callback says
// written, in order.
func TestOnFlushedReader(t *testing.T) {
	const n, size = 64, 16 << 10
	results := make(chan flushResult, n)
	ts := testserver.StartWith(t, nil, map[string]server.Endpoint{"/blast": server.EndpointFunc(func(c *server.Conn) server.Session {
		return blaster{c: c, n: n, size: size, results: results}
	})})
	c := wstest.Dial(t, ts.URL("/blast"), wstest.WithReceiveBuffer(4096))
	c.SendText(t, "go")
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < n; i++ {
		if _, _, err := c.ReadData(time.Until(deadline)); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	for i := 0; i < n; i++ {
		select {
		case r := <-results:
			if r.i != i || !r.written || !r.accepted {
				t.Fatalf("callback %d: %+v", i, r)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("callback %d never ran", i)
		}
	}
}
