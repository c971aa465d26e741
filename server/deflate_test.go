package server_test

// permessage-deflate (RFC 7692) on /echo: negotiation as clients see it,
// compressed echoes, and every way a compressed message can be wrong.

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// deflateServer starts chatd with compression enabled, then mutate
// applied, and returns the server and the URL of /echo.
func deflateServer(t *testing.T, mutate func(*server.Config)) (*testserver.Server, string) {
	t.Helper()
	srv := testserver.Start(t, func(c *server.Config) {
		c.Compression.Enabled = true
		if mutate != nil {
			mutate(c)
		}
	})
	return srv, srv.URL("/echo")
}

// chatJSON returns a chat-like JSON message of about n bytes.
func chatJSON(n int) []byte {
	words := []string{"hello", "there", "how", "are", "you", "today", "the", "meeting", "is", "at", "three", "ok"}
	var b strings.Builder
	b.WriteString(`{"type":"message","room":"lobby","from":"alice","seq":1234,"ts":1700000000000,"text":"`)
	for i := 0; b.Len() < n-2; i++ {
		b.WriteString(words[(i*7+i/3)%len(words)])
		b.WriteByte(' ')
	}
	b.WriteString(`"}`)
	return []byte(b.String())
}

// TestDeflateNegotiation: what each offer gets back (the response the
// client validated in Dial) and that the echo then works both ways.
func TestDeflateNegotiation(t *testing.T) {
	t.Parallel()
	_, url := deflateServer(t, nil)
	cases := []struct {
		name   string
		offers []wstest.DeflateOffer
		want   wstest.DeflateParams
		ok     bool
	}{
		{"plain", []wstest.DeflateOffer{{}}, wstest.DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, true},
		{"client_max_window_bits", []wstest.DeflateOffer{{ClientMaxWindowBits: -1}}, wstest.DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, true},
		{"client_max_window_bits=9", []wstest.DeflateOffer{{ClientMaxWindowBits: 9}}, wstest.DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, true},
		{"server_max_window_bits=9", []wstest.DeflateOffer{{ServerMaxWindowBits: 9, ClientMaxWindowBits: -1}},
			wstest.DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9}, true},
		{"server_max_window_bits=8", []wstest.DeflateOffer{{ServerMaxWindowBits: 8}},
			wstest.DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8}, true},
		{"server_max_window_bits=15", []wstest.DeflateOffer{{ServerMaxWindowBits: 15, ServerNoContextTakeover: true}},
			wstest.DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15}, true},
		{"all four", []wstest.DeflateOffer{{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 12}},
			wstest.DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10}, true},
		{"bad first offer, good second", []wstest.DeflateOffer{{Extra: [][2]string{{"x_unknown", ""}}}, {ServerMaxWindowBits: 11}},
			wstest.DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 11}, true},
		{"unknown parameter", []wstest.DeflateOffer{{Extra: [][2]string{{"x_unknown", ""}}}}, wstest.DeflateParams{}, false},
		{"window bits 7", []wstest.DeflateOffer{{ServerMaxWindowBits: 7}}, wstest.DeflateParams{}, false},
		{"window bits 16", []wstest.DeflateOffer{{ClientMaxWindowBits: 16}}, wstest.DeflateParams{}, false},
		{"repeated parameter", []wstest.DeflateOffer{{ClientMaxWindowBits: -1, Extra: [][2]string{{"client_max_window_bits", ""}}}}, wstest.DeflateParams{}, false},
		{"server_max_window_bits without value", []wstest.DeflateOffer{{Extra: [][2]string{{"server_max_window_bits", ""}}}}, wstest.DeflateParams{}, false},
		{"no_context_takeover with a value", []wstest.DeflateOffer{{Extra: [][2]string{{"server_no_context_takeover", "1"}}}}, wstest.DeflateParams{}, false},
		{"leading zero", []wstest.DeflateOffer{{Extra: [][2]string{{"server_max_window_bits", "010"}}}}, wstest.DeflateParams{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := wstest.Dial(t, url, wstest.WithDeflate(tc.offers...))
			got, ok := c.Deflate()
			if ok != tc.ok || got != tc.want {
				t.Fatalf("negotiated %v %+v, want %v %+v", ok, got, tc.ok, tc.want)
			}
			msg := chatJSON(600)
			if ok {
				c.Send(t, c.Deflated(ws.OpText, msg))
			} else {
				c.SendText(t, string(msg))
			}
			c.ExpectMessage(t, ws.OpText, msg)
			if c.LastCompressed() != ok {
				t.Fatalf("echo compressed %v, want %v", c.LastCompressed(), ok)
			}
		})
	}
}

// TestDeflateDisabled: with server.compression.enabled false (the
// default) the offer is declined and RSV1 stays a protocol error.
func TestDeflateDisabled(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, nil)
	url := srv.URL("/echo")
	c := wstest.Dial(t, url, wstest.WithDeflate())
	if _, ok := c.Deflate(); ok {
		t.Fatal("compression negotiated with compression disabled")
	}
	echoOnce(t, c, string(chatJSON(600)))
	c.Send(t, wstest.Text([]byte("hi")).WithRsv(4))
	c.ExpectCloseNext(t, ws.StatusProtocolError)
}

// TestDeflateMinSize: below server.compression.min_size the echo is
// plain, from it on compressed; a compressed message of any size is read.
func TestDeflateMinSize(t *testing.T) {
	t.Parallel()
	_, url := deflateServer(t, func(c *server.Config) { c.Compression.MinSize = 200 })
	c := wstest.Dial(t, url, wstest.WithDeflate())
	for _, n := range []int{0, 1, 40, 199, 200, 1000, 60000} {
		msg := bytes.Repeat([]byte("a"), n)
		c.Send(t, c.Deflated(ws.OpBinary, msg))
		c.ExpectMessage(t, ws.OpBinary, msg)
		if want := n >= 200; c.LastCompressed() != want {
			t.Fatalf("%d bytes: echo compressed %v, want %v", n, c.LastCompressed(), want)
		}
	}
	// Incompressible data goes back plain: compressing would grow it.
	noise := make([]byte, 4000)
	for i := range noise {
		noise[i] = byte(i*i*7919 + i>>3)
	}
	z := c.Deflated(ws.OpBinary, noise)
	c.Send(t, z)
	c.ExpectMessage(t, ws.OpBinary, noise)
}

// TestDeflateFragmented: RSV1 on the first frame only, the compressed
// payload cut anywhere, control frames in between.
func TestDeflateFragmented(t *testing.T) {
	t.Parallel()
	_, url := deflateServer(t, nil)
	c := wstest.Dial(t, url, wstest.WithDeflate())
	msg := chatJSON(5000)
	frames := c.DeflatedSplit(ws.OpText, msg, 7)
	ping := wstest.Ping([]byte("between"))
	frames = append(frames[:2:2], append([]wstest.Frame{ping}, frames[2:]...)...)
	if err := c.WriteCoalesced(frames...); err != nil {
		t.Fatal(err)
	}
	c.ExpectPong(t, []byte("between"))
	c.ExpectMessage(t, ws.OpText, msg)
	// And one byte at a time.
	if err := c.WriteBytewise(c.DeflatedSplit(ws.OpBinary, msg, 100)...); err != nil {
		t.Fatal(err)
	}
	c.ExpectMessage(t, ws.OpBinary, msg)
}

// TestDeflateViolations: each broken compressed input closes with its
// code, after the messages before it were answered.
func TestDeflateViolations(t *testing.T) {
	t.Parallel()
	_, url := deflateServer(t, func(c *server.Config) { c.Limits.MaxMessageBytes = 64 << 10 })
	bomb := func(c *wstest.Conn) []wstest.Frame {
		// 64 MiB of zeros deflates to about 64 KiB; the limit is 64 KiB
		// inflated.
		return []wstest.Frame{c.Deflated(ws.OpBinary, make([]byte, 64<<20))}
	}
	cases := []struct {
		name    string
		deflate bool
		frames  func(c *wstest.Conn) []wstest.Frame
		code    ws.StatusCode
	}{
		{"RSV1 without negotiation", false, func(c *wstest.Conn) []wstest.Frame {
			return []wstest.Frame{wstest.Text([]byte("x")).WithRsv(4)}
		}, ws.StatusProtocolError},
		{"RSV1 on a continuation", true, func(c *wstest.Conn) []wstest.Frame {
			f := c.DeflatedSplit(ws.OpText, chatJSON(300), 50)
			f[1].Rsv = 4
			return f
		}, ws.StatusProtocolError},
		{"RSV1 on a ping", true, func(c *wstest.Conn) []wstest.Frame {
			return []wstest.Frame{wstest.Ping([]byte("p")).WithRsv(4)}
		}, ws.StatusProtocolError},
		{"RSV2 with deflate", true, func(c *wstest.Conn) []wstest.Frame {
			return []wstest.Frame{c.Deflated(ws.OpText, []byte("hello")).WithRsv(6)}
		}, ws.StatusProtocolError},
		{"invalid deflate data", true, func(c *wstest.Conn) []wstest.Frame {
			// BTYPE 11 is reserved.
			return []wstest.Frame{wstest.Text([]byte{0xff, 0xff, 0xff, 0xff}).WithRsv(4)}
		}, ws.StatusInvalidFramePayloadData},
		{"invalid UTF-8 inside", true, func(c *wstest.Conn) []wstest.Frame {
			return []wstest.Frame{c.Deflated(ws.OpText, []byte("caf\xc3("))}
		}, ws.StatusInvalidFramePayloadData},
		{"decompression bomb", true, bomb, ws.StatusMessageTooBig},
		{"inflates one byte over", true, func(c *wstest.Conn) []wstest.Frame {
			return []wstest.Frame{c.Deflated(ws.OpBinary, make([]byte, 64<<10+1))}
		}, ws.StatusMessageTooBig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []wstest.Option
			if tc.deflate {
				opts = append(opts, wstest.WithDeflate())
			}
			c := wstest.Dial(t, url, opts...)
			if _, ok := c.Deflate(); ok != tc.deflate {
				t.Fatalf("negotiated %v", ok)
			}
			before := chatJSON(300)
			first := wstest.Text(before)
			if tc.deflate {
				first = c.Deflated(ws.OpText, before)
			}
			if err := c.Write(append([]wstest.Frame{first}, tc.frames(c)...)...); err != nil {
				t.Logf("write: %v", err)
			}
			c.ExpectMessage(t, ws.OpText, before)
			c.ExpectCloseNext(t, tc.code)
		})
	}
}

// TestDeflateExactLimit: a message that inflates to exactly
// max_message_bytes is accepted.
func TestDeflateExactLimit(t *testing.T) {
	t.Parallel()
	_, url := deflateServer(t, func(c *server.Config) { c.Limits.MaxMessageBytes = 64 << 10 })
	c := wstest.Dial(t, url, wstest.WithDeflate())
	msg := bytes.Repeat([]byte("0123456789"), 64<<10/10)
	msg = append(msg, make([]byte, 64<<10-len(msg))...)
	c.Send(t, c.Deflated(ws.OpBinary, msg))
	c.ExpectMessage(t, ws.OpBinary, msg)
}

// TestDeflateStats: the server counts what it compressed and inflated.
func TestDeflateStats(t *testing.T) {
	t.Parallel()
	srv, url := deflateServer(t, nil)
	c := wstest.Dial(t, url, wstest.WithDeflate())
	msg := chatJSON(1000)
	c.Send(t, c.Deflated(ws.OpText, msg))
	c.ExpectMessage(t, ws.OpText, msg)
	st := srv.Srv.CompressionStats()
	if st.Compressed != 1 || st.Inflated != 1 || st.PlainBytes != uint64(len(msg)) || st.CompressedBytes == 0 || st.CompressedBytes >= st.PlainBytes {
		t.Fatalf("stats %+v after one compressed echo of %d bytes", st, len(msg))
	}
}
