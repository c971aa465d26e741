package server_test

import (
	"bufio"
	"crypto/tls"
	"net/http"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/wstest"
)

// loopWork sums the event loops' wakes and tasks.
func loopWork(s *server.Server) uint64 {
	var n uint64
	for _, l := range s.Stats().Loops {
		n += l.Wakes + l.Tasks
	}
	return n
}

// TestTLSHalfRecordSilent: after the upgrade, a client sends the start of
// a frame and goes silent, three ways: half a TLS record (crypto/tls holds
// it, no plaintext yet), one whole record holding half a frame, and half
// a record after a whole one holding the frame's start. Each is an
// incomplete frame to the client, so each is closed with 4002 at
// partial_frame_timeout (keepalive is far off), and the loop does not
// spin meanwhile: a handful of wakes, not thousands.
func TestTLSHalfRecordSilent(t *testing.T) {
	frame := append(maskedHeader(ws.OpText, true, 50), make([]byte, 50)...)
	cases := map[string]func(r *rawTLS13) []byte{
		"half a record": func(r *rawTLS13) []byte {
			rec := r.appData(nil, frame)
			return rec[:len(rec)/2]
		},
		"a record of half a frame": func(r *rawTLS13) []byte { return r.appData(nil, frame[:20]) },
		"a record of half a frame then half a record": func(r *rawTLS13) []byte {
			b := r.appData(nil, frame[:20])
			rec := r.appData(nil, frame[20:])
			return append(b, rec[:3]...) // inside the record header
		},
	}
	for name, send := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := startTLS(t, func(c *server.Config) {
				c.Limits.PartialFrameTimeout = 300 * time.Millisecond
				c.Keepalive.PingInterval = time.Minute
			})
			r, tc := dialRawTLS13(t, ts, 0)
			if _, err := r.raw.Write(r.appData(nil, []byte(upgradeRequest("/echo", "")))); err != nil {
				t.Fatal(err)
			}
			c := readUpgrade(t, tc)
			before := loopWork(ts.Srv)
			start := time.Now()
			if _, err := r.raw.Write(send(r)); err != nil {
				t.Fatal(err)
			}
			f, err := c.ReadCloseFrame(5 * time.Second)
			if err != nil {
				t.Fatalf("no close frame within 5 s (partial_frame_timeout 300ms, ping_interval 1m): %v", err)
			}
			if f.Code != ws.StatusCode(server.CloseFrameTimeout) {
				t.Fatalf("close %d, want 4002", f.Code)
			}
			if w := loopWork(ts.Srv) - before; w > 200 {
				t.Errorf("the loops woke %d times in %v for one silent connection: spinning?", w, time.Since(start))
			}
		})
	}
}

// readUpgrade reads the 101 answer on tc and returns the WebSocket
// client reading after it.
func readUpgrade(t *testing.T, tc *tls.Conn) *wstest.Conn {
	t.Helper()
	_ = tc.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(tc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("upgrade answer: %v", err)
	}
	if resp.StatusCode != 101 {
		t.Fatalf("upgrade answer %s", resp.Status)
	}
	_ = tc.SetReadDeadline(time.Time{})
	return wstest.NewConn(tc, br, 10*time.Second)
}
