package server_test

// RFC 6455 conformance of the /echo endpoint, checked byte by byte with the
// deliberately misbehaving client in server/wstest.
//
// Every case runs on a fresh connection in up to three write modes, because
// the server must not care how TCP cuts the stream:
//   - frames:    one write call per frame;
//   - coalesced: all frames in one write call (two frames in one segment);
//   - bytewise:  one byte per write call (only for small cases).
// Write errors are logged, not fatal: a server that rightly closes early may
// reset the rest of a write. The expectations that follow decide.
//
// A case that does not end the connection itself finishes with a ping that
// must be the next thing answered (nothing unexpected was sent) and a clean
// client-initiated close. Close expectations are strict: the close frame must
// be the very next frame, and the server must end the TCP connection promptly
// after the closing handshake. The servers here run with a 30 s close_timeout
// so that a server waiting for that timeout instead of closing fails.
//
// Replies keep the order of what they answer, except that a pong may overtake
// the echo of an earlier data message, which RFC 6455 does not order.
// Close codes follow gobwas/ws CheckCloseFrameData (Autobahn's list): 1004,
// 1005, 1006, 1012-1016 and anything below 1000 or from 5000 up are invalid.
//
// TestConformanceAnswerBeforeClose and TestConformanceFailFast hold the
// server to what RFC 6455 recommends rather than requires (Autobahn "OK"
// versus "NON-STRICT", "fail fast" on UTF-8 and size); the python websockets
// 10.4 server, for comparison, fails both.

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

const (
	// confDefaultLimit is server.DefaultConfig's limits.max_message_bytes.
	confDefaultLimit = 64 << 10
	// confBigLimit is the limit of the server for the 64-bit length cases.
	confBigLimit = 1 << 20
	// confCloseTimeout is far above wstest's 5 s expectation timeout.
	confCloseTimeout = 30 * time.Second
	// confBytewiseMax is the largest case also sent one byte per write.
	confBytewiseMax = 2048
)

// confServer starts chatd and returns the URL of /echo.
func confServer(t *testing.T, mutate func(*server.Config)) string {
	t.Helper()
	srv := testserver.Start(t, func(c *server.Config) {
		c.CloseTimeout = confCloseTimeout
		// Hundreds of cases dial one server from 127.0.0.1, in parallel.
		c.Connections.RatePerAddress = 1e6
		c.Connections.BurstPerAddress = 1e6
		if mutate != nil {
			mutate(c)
		}
	})
	return srv.URL("/echo")
}

// confLimit sets limits.max_message_bytes, with a write budget that fits an
// echo of the largest message.
func confLimit(n int) func(*server.Config) {
	return func(c *server.Config) {
		c.Limits.MaxMessageBytes = n
		c.Limits.WriteBudgetBytes = max(c.Limits.WriteBudgetBytes, 4*n)
	}
}

// confCase is one exchange: frames to send, then steps to check.
type confCase struct {
	name string
	send []wstest.Frame
	want []confStep
	// async sends on a goroutine, in frames mode only, while the steps run:
	// for oversized messages the server may stop reading before the end, and
	// a blocked write must not hold up the close it sends. Such cases must
	// end with confCloseFrame, which does not write.
	async bool
}

// confRun is the state of one case on one connection.
type confRun struct {
	t    *testing.T
	c    *wstest.Conn
	done bool // a step ended the connection
}

type confStep func(r *confRun)

// confEcho: the next message is op with payload p.
func confEcho(op ws.OpCode, p []byte) confStep {
	return func(r *confRun) { r.t.Helper(); r.c.ExpectMessage(r.t, op, p) }
}

// confPong: the next message is a pong with payload p.
func confPong(p []byte) confStep {
	return func(r *confRun) { r.t.Helper(); r.c.ExpectPong(r.t, p) }
}

// confClosed: the next frame is a close with one of codes (1005: empty), the
// client completes the handshake if the server started it, and the server
// then ends the connection without sending anything else.
func confClosed(codes ...ws.StatusCode) confStep {
	return func(r *confRun) {
		r.t.Helper()
		r.c.ExpectCloseNext(r.t, codes...)
		r.done = true
	}
}

// confCloseFrame: the next frame is a close with one of codes; the client
// then drops the connection, for cases where the server cannot be expected
// to parse a reply (it stopped mid-frame).
func confCloseFrame(codes ...ws.StatusCode) confStep {
	return func(r *confRun) {
		r.t.Helper()
		r.c.ExpectCloseFrameNext(r.t, codes...)
		r.c.Close()
		r.done = true
	}
}

// confRaw writes b in one write call.
func confRaw(b []byte) confStep {
	return func(r *confRun) {
		r.t.Helper()
		if err := r.c.WriteRaw(b); err != nil {
			r.t.Logf("write: %v", err)
		}
	}
}

// confHalfClose shuts down the client's sending side (TCP FIN).
func confHalfClose(r *confRun) {
	r.t.Helper()
	if err := r.c.NetConn().(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		r.t.Fatal(err)
	}
}

// confSilent: nothing arrives for d.
func confSilent(d time.Duration) confStep {
	return func(r *confRun) {
		r.t.Helper()
		h, p, err := r.c.ReadFrame(d)
		if err == nil {
			r.t.Fatalf("want silence for %v, got %v frame of %d bytes %.40q", d, h.OpCode, len(p), p)
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			r.t.Fatalf("want silence for %v: %v", d, err)
		}
	}
}

// confMsg is one expected message.
type confMsg struct {
	op ws.OpCode
	p  []byte
}

// confUnordered: the next len(want) messages are want, in any order. RFC
// 6455 does not order a pong against replies to earlier data messages.
func confUnordered(want ...confMsg) confStep {
	return func(r *confRun) {
		r.t.Helper()
		left := slices.Clone(want)
		for range want {
			op, p, err := r.c.ReadMessage(r.c.Timeout())
			if err != nil {
				r.t.Fatalf("want %d more messages: %v", len(left), err)
			}
			i := slices.IndexFunc(left, func(m confMsg) bool { return m.op == op && bytes.Equal(m.p, p) })
			if i < 0 {
				r.t.Fatalf("got %v message of %d bytes %.40q, want one of %d others", op, len(p), p, len(left))
			}
			left = slices.Delete(left, i, i+1)
		}
	}
}

// confAlive: a ping is the next thing answered.
func confAlive(r *confRun) {
	r.t.Helper()
	p := []byte("still there?")
	r.c.Send(r.t, wstest.Ping(p))
	r.c.ExpectPong(r.t, p)
}

type confMode struct {
	name  string
	write func(c *wstest.Conn, frames []wstest.Frame) error
}

var confModes = []confMode{
	{"frames", func(c *wstest.Conn, f []wstest.Frame) error { return c.Write(f...) }},
	{"coalesced", func(c *wstest.Conn, f []wstest.Frame) error { return c.WriteCoalesced(f...) }},
	{"bytewise", func(c *wstest.Conn, f []wstest.Frame) error { return c.WriteBytewise(f...) }},
}

// modes returns the write modes that make sense for tc: coalescing needs two
// frames, bytewise needs a small case, async cases write frame by frame.
func (tc confCase) modes() []confMode {
	size := 0
	for _, f := range tc.send {
		size += len(f.Payload) + 14
	}
	var modes []confMode
	for _, m := range confModes {
		switch {
		case tc.async && m.name != "frames":
		case m.name == "coalesced" && len(tc.send) < 2:
		case m.name == "bytewise" && (size == 0 || size > confBytewiseMax):
		default:
			modes = append(modes, m)
		}
	}
	return modes
}

// runConf runs every case in every write mode that fits it, in parallel.
func runConf(t *testing.T, url string, cases []confCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, m := range tc.modes() {
				t.Run(m.name, func(t *testing.T) {
					t.Parallel()
					runConfCase(t, url, tc, m)
				})
			}
		})
	}
}

func runConfCase(t *testing.T, url string, tc confCase, m confMode) {
	r := &confRun{t: t, c: wstest.Dial(t, url)}
	if tc.async {
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			if err := m.write(r.c, tc.send); err != nil {
				t.Logf("write (async): %v", err)
			}
		}()
		t.Cleanup(func() { r.c.Close(); <-sent })
	} else if err := m.write(r.c, tc.send); err != nil {
		t.Logf("write: %v", err)
	}
	for _, step := range tc.want {
		step(r)
		if r.done {
			return
		}
	}
	if tc.async {
		t.Fatal("bad case: async cases must end with confCloseFrame")
	}
	confAlive(r)
	r.c.Send(t, wstest.Close(ws.StatusNormalClosure, "bye"))
	r.c.ExpectCloseNext(t, ws.StatusNormalClosure)
}

// confText returns n bytes of printable ASCII.
func confText(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return p
}

// confBinary returns n bytes cycling through every byte value.
func confBinary(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return p
}

// confPayload returns n bytes suited to op.
func confPayload(op ws.OpCode, n int) []byte {
	if op == ws.OpText {
		return confText(n)
	}
	return confBinary(n)
}

// confFrame returns a final, masked data frame of op.
func confFrame(op ws.OpCode, p []byte) wstest.Frame {
	return wstest.Text(p).WithOpCode(op)
}

// confCuts returns the cut points that split n bytes into k equal parts.
func confCuts(n, k int) []int {
	cuts := make([]int, 0, k-1)
	for i := 1; i < k; i++ {
		cuts = append(cuts, i*n/k)
	}
	return cuts
}

// confEveryByte returns the cut points 1..n-1.
func confEveryByte(n int) []int { return confCuts(n, n) }

var (
	confDataOps     = []ws.OpCode{ws.OpText, ws.OpBinary}
	confReservedOps = []ws.OpCode{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf}
)

func confOpName(op ws.OpCode) string {
	if op == ws.OpText {
		return "text"
	}
	return "binary"
}

// TestConformanceEcho: payload lengths at the edges of the 7-, 16- and
// 64-bit length encodings echo unchanged, text and binary.
