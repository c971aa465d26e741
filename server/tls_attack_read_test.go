package server_test

import (
	"bufio"
	"crypto/tls"
	"net/http"
	"strings"
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

// TestTLSDeflate: permessage-deflate inside TLS: compressed messages of
// every size around a record (16 KiB), sent deflated in fragments, are
// echoed compressed and intact; a deflate bomb
// over TLS is refused with 1009 like over ws://.
func TestTLSDeflate(t *testing.T) {
	ts := startTLS(t, func(c *server.Config) {
		c.Compression.Enabled = true
		c.Limits.MaxMessageBytes = 64 << 10
	})
	c := wstest.Dial(t, ts.wss("/echo"), wstest.WithTLS(ts.clientTLS()), wstest.WithDeflate())
	if _, ok := c.Deflate(); !ok {
		t.Fatal("permessage-deflate not negotiated over TLS")
	}
	for _, n := range []int{300, 16383, 16384, 16385, 40000} {
		msg := strings.Repeat("compressible chat text ", n/23+1)[:n]
		if err := c.Write(c.DeflatedSplit(ws.OpText, []byte(msg), 7000)...); err != nil {
			t.Fatal(err)
		}
		c.ExpectText(t, msg)
		if !c.LastCompressed() {
			t.Errorf("a %d-byte echo came back uncompressed", n)
		}
	}
	bomb := c.Deflated(ws.OpText, make([]byte, 1<<20)) // 1 MiB of zeros, ~1 KiB deflated
	if err := c.Write(bomb); err != nil {
		t.Fatal(err)
	}
	if code := readCloseCode(t, c, 5*time.Second); code != ws.StatusMessageTooBig {
		t.Fatalf("deflate bomb over TLS: close %d, want 1009", code)
	}
}
