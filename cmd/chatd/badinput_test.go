package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/wstest"
)

// TestBadInput runs a table of hostile clients against the real binary:
// bad handshakes, bad frames, bad chat requests, bad names and logins, bad
// tokens and floods. Each case states what the client does and what chatd
// must answer (an HTTP status, a close code, an error or a login reply, per
// docs/PROTOCOL.md). After every case the server must still be healthy:
// /healthz answers within a second and two fresh clients can talk in the
// lobby. So a case that wedges or crashes the server fails under its own
// name.
//
// Each case's clients connect from their own loopback address
// (127.0.1.N), so the per-address limits one case runs into do not spill
// into the next; the health check connects from 127.0.0.2.
func TestBadInput(t *testing.T) {
	bin := buildChatd(t)
	mainSrv := startBadServer(t, bin, "main", biMainConfig, func(name string) string { return name })
	jwtSrv := startBadServer(t, bin, "jwt", biJWTConfig, func(name string) string {
		return biToken(t, map[string]any{"sub": name, "exp": time.Now().Add(time.Hour).Unix()})
	})

	cases := biCases(t)
	if len(cases) > 250 {
		t.Fatalf("%d cases: not enough source addresses", len(cases))
	}
	for i, c := range cases {
		srv := mainSrv
		if c.jwt {
			srv = jwtSrv
		}
		from := netip.AddrFrom4([4]byte{127, 0, 1, byte(i + 1)})
		t.Run(c.name, func(t *testing.T) {
			r := &biRun{t: t, srv: srv, from: from, id: i, deadline: time.Now().Add(biCaseBound)}
			defer r.closeAll()
			c.run(r)
		})
		// Passed or not, the case must leave the server serving others; if
		// it does not, the cases after it would only fail for its sake.
		srv.healthy(t, c.name, i)
	}
	mainSrv.p.logs.noErrors(t)
	jwtSrv.p.logs.noErrors(t)
}

// biCaseBound bounds one case, health check excluded.
const biCaseBound = 15 * time.Second

// The test servers' timeouts are short, so the cases that wait for them
// stay quick.
const (
	biHandshakeTimeout = time.Second
	biFrameTimeout     = time.Second
	biLoginTimeout     = 2 * time.Second
	biCloseTimeout     = 3 * time.Second
	biMaxPerAddress    = 16
	biMaxHandshakes    = 4
	biJWTSecret        = "badinput-test-secret-0123456789abcdef"
)

var biMainConfig = `server:
  listen: "127.0.0.1:0"
  close_timeout: "` + biCloseTimeout.String() + `"
  shutdown_timeout: "5s"
  allowed_origins: ["http://good.example"]
  connections:
    max_per_address: ` + strconv.Itoa(biMaxPerAddress) + `
    max_handshakes_per_address: ` + strconv.Itoa(biMaxHandshakes) + `
  handshake:
    timeout: "` + biHandshakeTimeout.String() + `"
  limits:
    partial_frame_timeout: "` + biFrameTimeout.String() + `"
    write_budget_bytes: 131072
chat:
  login:
    timeout: "` + biLoginTimeout.String() + `"
    failure_delay: "10ms"
    max_failure_delay: "40ms"
  mailbox:
    dir: "` + dataDir + `"
log:
  level: info
  format: json
`

var biJWTConfig = `server:
  listen: "127.0.0.1:0"
  close_timeout: "2s"
  shutdown_timeout: "5s"
chat:
  mailbox:
    dir: "` + dataDir + `"
auth:
  backend: jwt
  jwt:
    secret: "` + biJWTSecret + `"
log:
  level: info
  format: json
`

// biCase is one kind of bad input: run plays the hostile client and checks
// chatd's answer, usually through r.check(client, want).
type biCase struct {
	name string
	jwt  bool // against the jwt server instead of the main one
	run  func(r *biRun)
}

// biWant is the answer a hostile client expects.
type biWant struct {
	// status: an HTTP answer with this status line, read in full and ended
	// by the server's FIN, never an RST.
	status int
	header string // a substring of that answer's head
	body   string // a substring of that answer's body
	noBody bool   // the answer has no body at all (HEAD)
	// hangup: the server closes the connection without writing anything.
	hangup bool
	// msgs: the first messages the client receives, in order.
	msgs []biMatch
	// close: then a close frame with this code, followed by the end of TCP.
	close ws.StatusCode
	// skip: messages other than msgs may come before the close.
	skip bool
	// notBefore: the answer (status, hang-up or close) comes no earlier
	// than this after r.check is called (timeouts).
	notBefore time.Duration
}

// biCases returns the table, grouped by kind: handshake, frame (on /echo),
// chat (after login), login (names, login loop), token (jwt server), flood.
// Each case's expected answer comes from docs/PROTOCOL.md.
func biCases(t *testing.T) []biCase {
	// upgrade is a WebSocket upgrade request; headers are name, value pairs
	// that replace the defaults, "-" leaving the header out.
	upgrade := func(method, path string, headers ...string) []byte {
		h := map[string]string{
			"Host": "chatd", "Upgrade": "websocket", "Connection": "Upgrade",
			"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
		}
		for i := 0; i+1 < len(headers); i += 2 {
			h[headers[i]] = headers[i+1]
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, path)
		for _, k := range []string{"Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
			"Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol", "Origin", "X-Pad"} {
			if v, ok := h[k]; ok && v != "-" {
				fmt.Fprintf(&b, "%s: %s\r\n", k, v)
			}
		}
		b.WriteString("\r\n")
		return []byte(b.String())
	}
	raw := func(req []byte, want biWant) func(r *biRun) {
		return func(r *biRun) {
			c := r.tcp()
			c.write(req)
			r.check(c, want)
		}
	}
	// echo: a WebSocket to /echo that sends raw bytes.
	echo := func(send []byte, want biWant) func(r *biRun) {
		return func(r *biRun) {
			c := r.ws("/echo")
			c.write(send)
			r.check(c, want)
		}
	}
	// loggedOut: a /ws client that sends raw bytes before login.
	loggedOut := func(send []byte, want biWant) func(r *biRun) {
		return func(r *biRun) {
			c := r.ws("/ws")
			c.write(send)
			r.check(c, want)
		}
	}
	// loggedIn: a /ws client logged in as a fresh name that sends raw bytes.
	loggedIn := func(send []byte, want biWant) func(r *biRun) {
		return func(r *biRun) {
			c := r.chat(r.name("u"))
			c.write(send)
			r.check(c, want)
		}
	}
	// unseen: as loggedIn, and another lobby member receives nothing: the
	// next message it gets is a marker the bad client sends afterwards.
	unseen := func(send []byte, want biWant) func(r *biRun) {
		return func(r *biRun) {
			observer := r.chat(r.name("obs"))
			c := r.chat(r.name("u"))
			c.write(send)
			r.check(c, want)
			marker := "marker after " + r.t.Name()
			c.write(biText(marker))
			m := observer.readJSON()
			if m["type"] != "message" || m["data"] != marker {
				r.t.Errorf("lobby member got %v, want only the marker %q", m, marker)
			}
		}
	}
	token := func(claims map[string]any) []byte { return biText(biToken(t, claims)) }
	hour := time.Hour
	now := time.Now()
	refused := func(reason string) biWant { return biWant{msgs: []biMatch{biExact(reason)}} }
	closed := func(code ws.StatusCode) biWant { return biWant{close: code} }

	return []biCase{
		// Handshake.
		{name: "handshake/malformed request line", run: raw([]byte("NONSENSE\r\n\r\n"), biWant{status: 400})},
		{name: "handshake/unknown path", run: raw(upgrade("GET", "/nowhere"), biWant{status: 404, body: "/nowhere"})},
		{name: "handshake/plain GET on /ws", run: raw([]byte("GET /ws HTTP/1.1\r\nHost: chatd\r\n\r\n"),
			biWant{status: 426, header: "Sec-WebSocket-Version: 13\r\n"})},
		{name: "handshake/Sec-WebSocket-Version 8", run: raw(upgrade("GET", "/ws", "Sec-WebSocket-Version", "8"),
			biWant{status: 426, header: "Sec-WebSocket-Version: 13\r\n"})},
		{name: "handshake/POST upgrade", run: raw(upgrade("POST", "/ws"), biWant{status: 405})},
		{name: "handshake/HEAD on /ws", run: raw([]byte("HEAD /ws HTTP/1.1\r\nHost: chatd\r\n\r\n"), biWant{status: 426, noBody: true})},
		{name: "handshake/HEAD upgrade", run: raw(upgrade("HEAD", "/ws"), biWant{status: 405, noBody: true})},
		{name: "handshake/upgrade over HTTP/1.0", run: raw(
			bytes.Replace(upgrade("GET", "/ws"), []byte("HTTP/1.1"), []byte("HTTP/1.0"), 1), biWant{status: 505})},
		{name: "handshake/no Sec-WebSocket-Key", run: raw(upgrade("GET", "/ws", "Sec-WebSocket-Key", "-"), biWant{status: 400})},
		{name: "handshake/Sec-WebSocket-Key not 16 bytes", run: raw(upgrade("GET", "/ws", "Sec-WebSocket-Key", "c2hvcnQ="), biWant{status: 400})},
		{name: "handshake/no Host", run: raw(upgrade("GET", "/echo", "Host", "-"), biWant{status: 400})},
		{name: "handshake/foreign Origin", run: raw(upgrade("GET", "/ws", "Origin", "http://evil.example"), biWant{status: 403})},
		{name: "handshake/head over max_header_bytes sent in full", run: raw(
			upgrade("GET", "/ws", "X-Pad", strings.Repeat("p", 16<<10)), biWant{status: 431})},
		{name: "handshake/asks for compression and a subprotocol", run: func(r *biRun) {
			c := r.tcp()
			c.write(upgrade("GET", "/echo", "Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits",
				"Sec-WebSocket-Protocol", "chat, superchat"))
			c.setReadDeadline(r.readDeadline())
			status, head, err := c.readHead()
			if err != nil || status != 101 {
				r.t.Fatalf("HTTP %d, %v, want 101:\n%s", status, err, head)
			}
			// PROTOCOL.md: chatd negotiates no extension and no subprotocol.
			for _, h := range []string{"sec-websocket-extensions", "sec-websocket-protocol"} {
				if strings.Contains(strings.ToLower(head), h) {
					r.t.Errorf("101 answer negotiates %s:\n%s", h, head)
				}
			}
			c.write(biText("plain")) // and the echo comes back uncompressed (RSV1 clear)
			r.check(c, biWant{msgs: []biMatch{biExact("plain")}})
		}},
		{name: "handshake/half a head then silence", run: raw(
			[]byte("GET /ws HTTP/1.1\r\nHost: chatd\r\n"), biWant{hangup: true, notBefore: biHandshakeTimeout * 3 / 4})},
		{name: "handshake/too many handshakes from one address", run: func(r *biRun) {
			for range biMaxHandshakes {
				r.tcp().write([]byte("GET /ws HTTP/1.1\r\n")) // and stops
			}
			c := r.tcp()
			c.write(upgrade("GET", "/echo"))
			r.check(c, biWant{status: 429, header: "Retry-After: ", body: "handshakes"})
		}},
		{name: "handshake/too many connections from one address", run: func(r *biRun) {
			for range biMaxPerAddress {
				r.ws("/echo")
			}
			c := r.tcp()
			c.write(upgrade("GET", "/echo"))
			r.check(c, biWant{status: 429, body: "too many connections"})
		}},

		// Frames, on /echo.
		{name: "frame/unmasked", run: echo(biFrame(biFin|byte(ws.OpText), []byte("hi"), false), closed(1002))},
		{name: "frame/RSV1 set", run: echo(biFrame(biFin|0x40|byte(ws.OpText), []byte("hi"), true), closed(1002))},
		{name: "frame/RSV3 set", run: echo(biFrame(biFin|0x10|byte(ws.OpBinary), []byte("hi"), true), closed(1002))},
		{name: "frame/reserved opcode 3", run: echo(biFrame(biFin|3, []byte("hi"), true), closed(1002))},
		{name: "frame/reserved opcode 0xB", run: echo(biFrame(biFin|0xB, nil, true), closed(1002))},
		{name: "frame/fragmented ping", run: echo(biFrame(byte(ws.OpPing), []byte("p"), true), closed(1002))},
		{name: "frame/ping of 126 bytes", run: echo(biFrame(biFin|byte(ws.OpPing), bytes.Repeat([]byte("p"), 126), true), closed(1002))},
		{name: "frame/continuation without start", run: echo(biFrame(biFin|byte(ws.OpContinuation), []byte("hi"), true), closed(1002))},
		{name: "frame/new message inside a fragmented one", run: echo(biCat(
			biFrame(byte(ws.OpText), []byte("a"), true), biFrame(biFin|byte(ws.OpText), []byte("b"), true)), closed(1002))},
		{name: "frame/64-bit length with the top bit", run: echo(biHeader(biFin|byte(ws.OpBinary), 1<<63|5), closed(1002))},
		{name: "frame/invalid UTF-8 text", run: echo(biFrame(biFin|byte(ws.OpText), []byte("a\xffb"), true), closed(1007))},
		{name: "frame/invalid UTF-8 across fragments", run: echo(biCat(
			biFrame(byte(ws.OpText), []byte("caf\xc3"), true), biFrame(biFin|byte(ws.OpContinuation), []byte("("), true)), closed(1007))},
		{name: "frame/over max_message_bytes in one header", run: echo(biHeader(biFin|byte(ws.OpBinary), 64<<10+1), closed(1009))},
		{name: "frame/over max_message_bytes across fragments", run: echo(biCat(
			biFrame(byte(ws.OpBinary), make([]byte, 40<<10), true), biHeader(biFin|byte(ws.OpContinuation), 40<<10)), closed(1009))},
		{name: "frame/close with code 1005", run: echo(biClose(1005, ""), closed(1002))},
		{name: "frame/close with code 999", run: echo(biClose(999, ""), closed(1002))},
		{name: "frame/close with code 5000", run: echo(biClose(5000, ""), closed(1002))},
		{name: "frame/close of one byte", run: echo(biFrame(biFin|byte(ws.OpClose), []byte{3}, true), closed(1002))},
		{name: "frame/close reason not UTF-8", run: echo(biClose(1000, "\xff"), closed(1007))},
		{name: "frame/echo before an unmasked frame", run: echo(biCat(biText("first"), biFrame(biFin|byte(ws.OpText), []byte("x"), false)),
			biWant{msgs: []biMatch{biExact("first")}, close: 1002})},
		{name: "frame/never answers the close", run: func(r *biRun) {
			c := r.ws("/echo")
			c.write(biFrame(biFin|byte(ws.OpText), []byte("x"), false))
			c.setReadDeadline(r.readDeadline())
			if h, p, err := c.readFrame(); err != nil || h.OpCode != ws.OpClose || biCloseCode(p) != 1002 {
				r.t.Fatalf("got %v %q, %v; want close 1002", h.OpCode, p, err)
			}
			start := time.Now()
			// chatd half-closes at once; it closes the socket, which a
			// write then finds, after close_timeout.
			var err error
			for err == nil && time.Since(start) < 2*biCloseTimeout {
				time.Sleep(100 * time.Millisecond)
				err = biWrite(c.conn, []byte{0x81}) // a byte, never a whole frame
			}
			if d := time.Since(start); err == nil || d < biCloseTimeout*3/4 {
				r.t.Fatalf("socket closed after %v (%v), want after close_timeout %v", d.Round(time.Millisecond), err, biCloseTimeout)
			}
		}},
		{name: "frame/keeps sending after the close", run: func(r *biRun) {
			c := r.ws("/echo")
			c.write(biFrame(biFin|byte(ws.OpText), []byte("x"), false))
			c.setReadDeadline(r.readDeadline())
			if h, p, err := c.readFrame(); err != nil || h.OpCode != ws.OpClose || biCloseCode(p) != 1002 {
				r.t.Fatalf("got %v %q, %v; want close 1002", h.OpCode, p, err)
			}
			// Past closing_read_bytes (64 KiB) chatd disconnects at once,
			// long before close_timeout.
			start := time.Now()
			junk := biFrame(biFin|byte(ws.OpBinary), make([]byte, 16<<10), true)
			sent := 0
			var err error
			for err == nil && time.Since(start) < 2*biCloseTimeout {
				err = biWrite(c.conn, junk)
				sent += len(junk)
			}
			if d := time.Since(start); err == nil || d > biCloseTimeout/2 {
				r.t.Fatalf("still connected %v and %d bytes after the close (%v), want cut off past 64 KiB", d.Round(time.Millisecond), sent, err)
			}
		}},
		{name: "frame/half a frame then silence", run: echo(biHeader(biFin|byte(ws.OpText), 10)[:4],
			biWant{close: 4002, notBefore: biFrameTimeout * 3 / 4})},
		{name: "frame/first fragment then silence", run: echo(biFrame(byte(ws.OpText), []byte("hel"), true),
			biWant{close: 4002, notBefore: biFrameTimeout * 3 / 4})},
		{name: "frame/first fragment then only pings", run: func(r *biRun) {
			c := r.ws("/echo")
			start := time.Now()
			c.write(biFrame(byte(ws.OpText), []byte("hel"), true))
			pinged := make(chan struct{})
			defer func() { c.conn.Close(); <-pinged }()
			go func() { // the pings keep the connection active, not the message
				defer close(pinged)
				for range 8 {
					time.Sleep(biFrameTimeout / 4)
					if c.conn.SetWriteDeadline(time.Now().Add(time.Second)) != nil ||
						biWrite(c.conn, biFrame(biFin|byte(ws.OpPing), []byte("p"), true)) != nil {
						return
					}
				}
			}()
			r.check(c, biWant{msgs: []biMatch{biPong("p")}, close: 4002, skip: true})
			if d := time.Since(start); d < biFrameTimeout*3/4 {
				r.t.Errorf("closed after %v, before partial_frame_timeout %v", d, biFrameTimeout)
			}
		}},

		// Chat requests, after login.
		{name: "chat/not JSON", run: loggedIn(biText("{x"), refusedErr("invalid JSON: "))},
		{name: "chat/unknown type", run: loggedIn(biText(`{"type":"x"}`), refusedErr(`unknown type "x"`))},
		{name: "chat/message without data", run: loggedIn(biText(`{"type":"message"}`), refusedErr("a message needs data"))},
		{name: "chat/empty receiver", run: unseen(biText(`{"receiver":"","data":"x"}`), refusedErr("receiver is empty"))},
		{name: "chat/null receiver", run: unseen(biText(`{"receiver":null,"data":"x"}`), refusedErr("receiver is empty"))},
		{name: "chat/receiver of the wrong type", run: loggedIn(biText(`{"receiver":5,"data":"x","id":7}`),
			biWant{msgs: []biMatch{biErrRef("invalid JSON: ", "7")}})},
		{name: "chat/empty room", run: unseen(biText(`{"room":"","data":"x"}`), refusedErr("room is empty"))},
		{name: "chat/sender spoofing", run: unseen(biText(`{"sender":"mallory","data":"x"}`), refusedErr("sender must be your own name, "))},
		{name: "chat/room not joined", run: loggedIn(biText(`{"room":"dev","data":"x"}`), refusedErr("not a member of room dev: join it first"))},
		{name: "chat/join an invalid room name", run: loggedIn(biText(`{"type":"join","room":"bad room!"}`), refusedErr(`invalid room name "bad room!"`))},
		{name: "chat/receiver with whitespace", run: loggedIn(biText(`{"receiver":"b b","data":1}`), refusedErr("invalid receiver: name contains whitespace"))},
		{name: "chat/join past max_per_session", run: func(r *biRun) {
			c := r.chat(r.name("u"))
			var joins []byte
			var want []biMatch
			for i := range 33 {
				joins = append(joins, biText(fmt.Sprintf(`{"type":"join","room":"r%d-%d"}`, r.id, i))...)
				want = append(want, biType("joined"))
			}
			c.write(joins)
			r.check(c, biWant{msgs: append(want[:32], biErr("too many rooms: leave one first"))})
		}},
		{name: "chat/who with a negative limit", run: loggedIn(biText(`{"type":"who","room":"lobby","limit":-5}`),
			biWant{msgs: []biMatch{biType("who")}})},
		{name: "chat/binary message", run: loggedIn(biFrame(biFin|byte(ws.OpBinary), []byte("bin"), true),
			refusedErr("binary messages are not supported: send text or JSON"))},
		{name: "chat/rate flood", run: func(r *biRun) {
			c := r.chat(r.name("u"))
			var flood []byte
			for range 200 {
				flood = append(flood, biText(`{"type":"who","room":"lobby"}`)...)
			}
			c.write(flood)
			// The burst is answered, then errors, then the close; skip
			// lets the answers pass until one error matches.
			r.check(c, biWant{msgs: []biMatch{biErr("rate limit: at most 20 messages per second")}, close: 4029, skip: true})
		}},

		// Names and logins.
		{name: "login/name with U+200B", run: loggedOut(biText("al\u200bice"), refused("name contains invisible or disallowed characters"))},
		{name: "login/name with U+202E", run: loggedOut(biText("\u202ealice"), refused("name contains invisible or disallowed characters"))},
		{name: "login/name with U+FEFF", run: loggedOut(biText("\ufeffalice"), refused("name contains invisible or disallowed characters"))},
		{name: "login/name with whitespace", run: loggedOut(biText("al ice"), refused("name contains whitespace"))},
		{name: "login/name with ':'", run: loggedOut(biText("al:ice"), refused("name contains ':'"))},
		{name: "login/name with a control character", run: loggedOut(biText("al\x01ice"), refused("name contains a control character"))},
		{name: "login/empty name", run: loggedOut(biText(""), refused("name is empty"))},
		{name: "login/33-character name", run: loggedOut(biText(strings.Repeat("n", 33)), refused("name is longer than 32 characters"))},
		{name: "login/ALICE while alice is online", run: func(r *biRun) {
			r.chat("alice")
			c := r.ws("/ws")
			c.write(biText("ALICE"))
			r.check(c, refused("name is already online"))
		}},
		{name: "login/full-width alice while alice is online", run: func(r *biRun) {
			r.chat("alice")
			c := r.ws("/ws")
			c.write(biText("ａｌｉｃｅ"))
			r.check(c, refused("name is already online"))
		}},
		{name: "login/JSON-looking login that does not parse", run: loggedOut(biText(`{"type":"login","name":"x`),
			biWant{msgs: []biMatch{biLoginErr("invalid JSON")}})},
		{name: "login/JSON login with a bad name", run: loggedOut(biText(`{"type":"login","name":"a b"}`),
			biWant{msgs: []biMatch{biLoginErr("name contains whitespace")}})},
		{name: "login/JSON object that is not a login", run: loggedOut(biText(`{"type":"who","room":"lobby"}`),
			biWant{msgs: []biMatch{biLoginErr("")}})},
		{name: "login/binary message", run: loggedOut(biFrame(biFin|byte(ws.OpBinary), []byte("alice"), true),
			refused("binary messages are not accepted before login: send your name as text"))},
		{name: "login/more than max_messages before login", run: loggedOut(
			bytes.Repeat(biText(`{"type":"rooms"}`), 21), biWant{close: 4005, skip: true})},
		{name: "login/more than max_messages binary messages before login", run: loggedOut(
			bytes.Repeat(biFrame(biFin|byte(ws.OpBinary), []byte("x"), true), 21), biWant{close: 4005, skip: true})},
		{name: "login/more than max_bytes before login", run: loggedOut(
			bytes.Repeat(biText(strings.Repeat("n", 50000)), 3), biWant{close: 4005, skip: true})},
		{name: "login/max_attempts failures", run: func(r *biRun) {
			c := r.ws("/ws")
			var want []biMatch
			for i := range 5 {
				c.write(biText(fmt.Sprintf("bad name %d", i)))
				want = append(want, biExact("name contains whitespace"))
			}
			r.check(c, biWant{msgs: want, close: 4001})
		}},
		{name: "login/timeout", run: func(r *biRun) {
			r.check(r.ws("/ws"), biWant{close: 4004, notBefore: biLoginTimeout * 3 / 4})
		}},

		// Tokens, on the jwt server.
		{name: "token/bad signature", jwt: true, run: loggedOut(
			biText(biForge(t, "HS256", map[string]any{"sub": "tok", "exp": now.Add(hour).Unix()}, "wrong-secret-wrong-secret-wrong-secret")),
			refused("invalid token"))},
		{name: "token/alg none", jwt: true, run: loggedOut(
			biText(biForge(t, "none", map[string]any{"sub": "tok", "exp": now.Add(hour).Unix()}, "")), refused("invalid token"))},
		{name: "token/string exp", jwt: true, run: loggedOut(
			token(map[string]any{"sub": "tok", "exp": strconv.FormatInt(now.Add(hour).Unix(), 10)}), refused("invalid token"))},
		{name: "token/no exp", jwt: true, run: loggedOut(token(map[string]any{"sub": "tok"}), refused("invalid token"))},
		{name: "token/exp 9999 years away", jwt: true, run: loggedOut(
			token(map[string]any{"sub": "tok", "exp": now.Unix() + 9999*365*24*3600}), refused("token lifetime too long"))},
		{name: "token/expired", jwt: true, run: loggedOut(
			token(map[string]any{"sub": "tok", "exp": now.Add(-hour).Unix()}), refused("token expired"))},
		{name: "token/not valid yet", jwt: true, run: loggedOut(
			token(map[string]any{"sub": "tok", "exp": now.Add(2 * hour).Unix(), "nbf": now.Add(hour).Unix()}), refused("token not valid yet"))},
		{name: "token/sub with U+200B", jwt: true, run: loggedOut(
			token(map[string]any{"sub": "to\u200bk", "exp": now.Add(hour).Unix()}), refused("invalid token"))},
		{name: "token/JSON login naming someone else", jwt: true, run: func(r *biRun) {
			c := r.ws("/ws")
			b, _ := json.Marshal(map[string]any{"type": "login", "name": "other", "token": biToken(t, map[string]any{"sub": "tok", "exp": now.Add(hour).Unix()})})
			c.write(biText(string(b)))
			r.check(c, biWant{msgs: []biMatch{biLoginErr("name does not match token")}})
		}},

		// Floods.
		{name: "flood/echo without reading", run: biEchoFlood},
		{name: "flood/1000 connections from one address", run: biConnFlood},
	}
}

// refusedErr expects one {"type":"error"} whose error starts with prefix.
func refusedErr(prefix string) biWant { return biWant{msgs: []biMatch{biErr(prefix)}} }

// biEchoFlood floods /echo with a small receive buffer and never reads:
// chatd must drop it as a slow consumer, not buffer without bound or stall.
// PROTOCOL.md (Flow control): dropped at once, 4008 logged, no close frame;
// the client reads what its socket holds, then EOF or a reset.
func biEchoFlood(r *biRun) {
	c := r.dial(func(fd int) error { return syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	c.handshake("/echo")
	msg := biFrame(biFin|byte(ws.OpBinary), make([]byte, 16<<10), true)
	const most = 256 << 20
	sent := 0
	for ; sent < most; sent += len(msg) {
		if err := biWrite(c.conn, msg); err != nil {
			break
		}
	}
	if sent >= most {
		r.t.Fatalf("wrote %d MiB to a client that does not read and was not dropped", most>>20)
	}
	// What is left to read is echoes, then the end.
	c.setReadDeadline(r.readDeadline())
	for {
		h, p, err := c.readFrame()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
				break // dropped, perhaps in the middle of an echo
			}
			r.t.Fatalf("after %d bytes sent: %v", sent, err)
		}
		if h.OpCode == ws.OpClose {
			r.t.Fatalf("close frame %d (%q): a slow consumer is dropped without one", biCloseCode(p), p[min(2, len(p)):])
		}
	}
	r.srv.p.logs.waitForClose(r.t, r.from, 4008)
}

// biConnFlood opens 1,000 connections from one address as fast as it can,
// each sending an upgrade request: each must be answered at once, 101 up to
// the per-address limits and 429 past them; once they are closed the
// address can connect again.
func biConnFlood(r *biRun) {
	const n = 1000
	conns := make([]*biConn, n)
	status := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	var mu sync.Mutex // guards r.conns through r.dialErr
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				mu.Lock()
				c, err := r.dialErr(nil)
				mu.Unlock()
				if err != nil {
					errs[i] = err
					continue
				}
				conns[i] = c
				if errs[i] = biWrite(c.conn, []byte("GET /echo HTTP/1.1\r\nHost: chatd\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
					"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")); errs[i] != nil {
					continue
				}
				status[i], _, errs[i] = c.readHead()
			}
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for i := range n {
		if errs[i] != nil {
			r.t.Errorf("connection %d: %v", i, errs[i])
			continue
		}
		counts[status[i]]++
		if status[i] == 429 {
			if _, err := io.ReadAll(conns[i].br); err != nil {
				r.t.Errorf("connection %d: reading the 429 answer: %v", i, err)
			}
		}
	}
	r.t.Logf("statuses: %v", counts)
	if counts[101] < 1 || counts[101] > biMaxPerAddress || counts[101]+counts[429] != n {
		r.t.Fatalf("statuses %v: want 1..%d times 101 and the rest 429", counts, biMaxPerAddress)
	}
	r.closeAll()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := r.dialErr(nil)
		if err == nil {
			err = c.handshakeErr("/echo")
		}
		if err == nil {
			c.write(biText("again"))
			r.check(c, biWant{msgs: []biMatch{biExact("again")}})
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the address cannot connect again: %v", err)
		}
		r.closeAll()
	}
}

// biServer is one chatd process of the table.
type biServer struct {
	name string
	p    *process
	addr string
	cred func(name string) string // the plain-text login of name

	// lastID is the id of the latest health-check message, which the next
	// must exceed. Used by the test goroutine only.
	lastID float64
}

func startBadServer(t *testing.T, bin, name, config string, cred func(string) string) *biServer {
	p := startProcess(t, bin, "-config", writeFile(t, "chatd.yaml", config))
	return &biServer{name: name, p: p, addr: p.logs.listenAddr(t), cred: cred}
}

var biHealthAddr = netip.MustParseAddr("127.0.0.2")

// healthy checks, after case i, that /healthz answers 200 within a second
// and that two fresh clients can talk in the lobby. It stops the test, naming
// the case, if not.
func (s *biServer) healthy(t *testing.T, caseName string, i int) {
	t.Helper()
	if err := s.healthz(); err != nil {
		t.Fatalf("%s server unhealthy after case %q: /healthz: %v", s.name, caseName, err)
	}
	// A sub-test, so that a failure of the check names the case and stops
	// the table.
	if !t.Run("healthy after "+caseName, func(t *testing.T) {
		r := &biRun{t: t, srv: s, from: biHealthAddr, id: i, deadline: time.Now().Add(10 * time.Second)}
		defer r.closeAll()
		a := r.chat(r.name("ok-a"))
		b := r.chat(r.name("ok-b"))
		msg := "still there after " + caseName
		a.write(biText(msg))
		for {
			m := b.readJSON()
			if m["type"] == "message" && m["data"] == msg && m["sender"] == r.name("ok-a") {
				s.checkStamps(t, m)
				return
			}
		}
	}) {
		t.Fatalf("%s server unhealthy after case %q: two fresh clients cannot talk", s.name, caseName)
	}
}

// checkStamps checks a health-check message's id and ts against
// PROTOCOL.md: ids are integers below 2^53, increasing per server, Unix
// milliseconds × 1000 plus a counter; ts is the receive time in Unix ms.
func (s *biServer) checkStamps(t *testing.T, m map[string]any) {
	t.Helper()
	id, _ := m["id"].(float64) // exact: below 2^53, or caught below
	ts, _ := m["ts"].(float64)
	now := float64(time.Now().UnixMilli())
	switch {
	case id >= 1<<53 || id != float64(uint64(id)):
		t.Errorf("id %v: want an integer below 2^53", m["id"])
	case id <= s.lastID:
		t.Errorf("id %.0f after %.0f: want increasing ids", id, s.lastID)
	case ts < now-10_000 || ts > now+1_000:
		t.Errorf("ts %.0f, now %.0f: want the receive time in Unix ms", ts, now)
	case id/1000 < ts-10_000 || id/1000 > ts+10_000:
		t.Errorf("id %.0f for ts %.0f: want Unix ms × 1000 plus a counter", id, ts)
	}
	s.lastID = id
}

func (s *biServer) healthz() error {
	d := net.Dialer{Timeout: time.Second, LocalAddr: &net.TCPAddr{IP: biHealthAddr.AsSlice()}}
	conn, err := d.Dial("tcp", s.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: chatd\r\n\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "HTTP/1.1 200 ") {
		return fmt.Errorf("status line %q", line)
	}
	return nil
}

// biRun is one case in progress. Its connections come from one source
// address and share the case's deadline. Used by the test goroutine, except
// dialErr, which the caller serializes.
type biRun struct {
	t        *testing.T
	srv      *biServer
	from     netip.Addr
	id       int
	deadline time.Time
	conns    []*biConn // closed by closeAll
}

// name returns a user name unique to this case.
func (r *biRun) name(prefix string) string { return fmt.Sprintf("%s%d", prefix, r.id) }

// readDeadline bounds one wait for an answer.
func (r *biRun) readDeadline() time.Time {
	if d := time.Now().Add(5 * time.Second); d.Before(r.deadline) {
		return d
	}
	return r.deadline
}

func (r *biRun) closeAll() {
	for _, c := range r.conns {
		c.conn.Close()
	}
	r.conns = nil
}

// dialErr connects from the case's address; control, if set, adjusts the
// socket before it connects.
func (r *biRun) dialErr(control func(fd int) error) (*biConn, error) {
	d := net.Dialer{Deadline: r.deadline, LocalAddr: &net.TCPAddr{IP: r.from.AsSlice()}}
	if control != nil {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var err error
			if cerr := rc.Control(func(fd uintptr) { err = control(int(fd)) }); cerr != nil {
				return cerr
			}
			return err
		}
	}
	conn, err := d.Dial("tcp", r.srv.addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(r.deadline)
	c := &biConn{r: r, conn: conn, br: bufio.NewReader(conn), readBy: r.deadline}
	r.conns = append(r.conns, c)
	return c, nil
}

func (r *biRun) dial(control func(fd int) error) *biConn {
	r.t.Helper()
	c, err := r.dialErr(control)
	if err != nil {
		r.t.Fatalf("dial from %v: %v", r.from, err)
	}
	return c
}

// tcp opens a raw TCP connection.
func (r *biRun) tcp() *biConn {
	r.t.Helper()
	return r.dial(nil)
}

// ws opens a WebSocket to path.
func (r *biRun) ws(path string) *biConn {
	r.t.Helper()
	c := r.dial(nil)
	c.handshake(path)
	return c
}

// chat opens a /ws connection logged in as name.
func (r *biRun) chat(name string) *biConn {
	r.t.Helper()
	c := r.ws("/ws")
	c.write(biText(r.srv.cred(name)))
	r.check(c, biWant{msgs: []biMatch{biExact("True")}})
	return c
}

// check reads c's answer and compares it with want.
func (r *biRun) check(c *biConn, want biWant) {
	r.t.Helper()
	start := time.Now()
	early := func(what string) {
		r.t.Helper()
		if d := time.Since(start); d < want.notBefore {
			r.t.Errorf("%s after %v, want no earlier than %v", what, d.Round(time.Millisecond), want.notBefore)
		}
	}
	c.setReadDeadline(r.readDeadline())
	switch {
	case want.status != 0:
		status, head, err := c.readHead()
		if err != nil {
			r.t.Fatalf("want HTTP %d: %v", want.status, err)
		}
		if status != want.status {
			r.t.Fatalf("HTTP %d, want %d; answer:\n%s", status, want.status, head)
		}
		// The whole answer, then FIN: chatd must not reset a connection it
		// answered, or the client may never see the answer.
		body, err := io.ReadAll(c.br)
		if err != nil {
			r.t.Fatalf("HTTP %d answer not ended cleanly: %v", status, err)
		}
		// PROTOCOL.md: every answer but 101 ends the connection.
		if !strings.Contains(head, "\r\nConnection: close\r\n") {
			r.t.Errorf("HTTP %d without Connection: close:\n%s", status, head)
		}
		if !strings.Contains(head, want.header) {
			r.t.Errorf("head %q does not contain %q", head, want.header)
		}
		if want.noBody && len(body) > 0 {
			r.t.Errorf("body %q, want none", body)
		}
		if !strings.Contains(string(body), want.body) {
			r.t.Errorf("body %q does not mention %q", body, want.body)
		}
		early(fmt.Sprintf("HTTP %d", status))
		return
	case want.hangup:
		got, err := io.ReadAll(c.br)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			r.t.Fatalf("want the connection closed: %v", err)
		}
		if len(got) > 0 {
			r.t.Errorf("want the connection closed without an answer, got %q", got)
		}
		early("closed")
		return
	}
	i := 0
	for i < len(want.msgs) || want.close != 0 {
		h, p, err := c.readFrame()
		if err != nil {
			r.t.Fatalf("after %d of %d messages (then close %d): %v", i, len(want.msgs), want.close, err)
		}
		if h.OpCode == ws.OpClose {
			code := biCloseCode(p)
			switch {
			case i < len(want.msgs):
				r.t.Fatalf("close %d (%q) before message %d", code, p[min(2, len(p)):], i)
			case code != want.close:
				r.t.Fatalf("close %d (%q), want %d", code, p[min(2, len(p)):], want.close)
			}
			early(fmt.Sprintf("close %d", code))
			// Answer it; chatd then closes TCP.
			_ = biWrite(c.conn, biFrame(biFin|byte(ws.OpClose), p[:min(2, len(p))], true))
			if _, _, err := c.readFrame(); err == nil {
				r.t.Errorf("a frame after the close frame")
			}
			return
		}
		if i < len(want.msgs) {
			if err := want.msgs[i](h.OpCode, p); err == nil {
				i++
				continue
			} else if !want.skip {
				r.t.Fatalf("message %d: %v", i, err)
			}
		} else if !want.skip {
			r.t.Fatalf("unexpected %v frame %q while waiting for close %d", h.OpCode, biShort(p), want.close)
		}
	}
}

// biConn is a hostile client's connection: raw bytes out, HTTP answers
// read from br, and server frames read through a wstest.Conn on the same
// buffer once upgraded.
type biConn struct {
	r      *biRun
	conn   net.Conn
	br     *bufio.Reader
	readBy time.Time    // the read deadline, for HTTP and frames alike
	ws     *wstest.Conn // made at the first frame read
}

// setReadDeadline bounds the reads that follow, until the next call.
func (c *biConn) setReadDeadline(t time.Time) {
	c.readBy = t
	_ = c.conn.SetReadDeadline(t)
}

func (c *biConn) write(b []byte) {
	c.r.t.Helper()
	if err := biWrite(c.conn, b); err != nil {
		c.r.t.Fatalf("write: %v", err)
	}
}

func biWrite(conn net.Conn, b []byte) error {
	_, err := conn.Write(b)
	return err
}

func (c *biConn) handshake(path string) {
	c.r.t.Helper()
	if err := c.handshakeErr(path); err != nil {
		c.r.t.Fatalf("handshake %s: %v", path, err)
	}
}

func (c *biConn) handshakeErr(path string) error {
	req := "GET " + path + " HTTP/1.1\r\nHost: chatd\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if err := biWrite(c.conn, []byte(req)); err != nil {
		return err
	}
	status, head, err := c.readHead()
	if err != nil {
		return err
	}
	if status != 101 {
		return fmt.Errorf("HTTP %d:\n%s", status, head)
	}
	return nil
}

// readHead reads an HTTP answer's status line and headers.
func (c *biConn) readHead() (status int, head string, err error) {
	var b strings.Builder
	for {
		line, err := c.br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return 0, b.String(), fmt.Errorf("reading the HTTP answer (%q so far): %w", b.String(), err)
		}
		if line == "\r\n" {
			break
		}
	}
	head = b.String()
	f := strings.Fields(head)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return 0, head, fmt.Errorf("not an HTTP answer: %q", head)
	}
	status, err = strconv.Atoi(f[1])
	return status, head, err
}

// readFrame reads one server frame by the read deadline: wstest checks
// it as a client must (no mask, no RSV bits, no reserved opcode, control
// frames final and short), and chatd fragments nothing and sends nothing
// over 16 MiB.
func (c *biConn) readFrame() (ws.Header, []byte, error) {
	if c.ws == nil {
		c.ws = wstest.NewConn(c.conn, c.br, 0)
	}
	h, p, err := c.ws.ReadFrame(time.Until(c.readBy))
	if err != nil {
		return h, p, err
	}
	if !h.Fin || h.Length > 16<<20 {
		return h, nil, fmt.Errorf("bad server frame header %+v", h)
	}
	return h, p, nil
}

// readJSON reads the next text message as a JSON object.
func (c *biConn) readJSON() map[string]any {
	c.r.t.Helper()
	c.setReadDeadline(c.r.readDeadline())
	h, p, err := c.readFrame()
	if err != nil {
		c.r.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if h.OpCode != ws.OpText || json.Unmarshal(p, &m) != nil {
		c.r.t.Fatalf("want a JSON text message, got %v %q", h.OpCode, biShort(p))
	}
	return m
}

// biMatch checks one received message.
type biMatch func(op ws.OpCode, p []byte) error

// biExact matches a text message equal to s.
func biExact(s string) biMatch {
	return func(op ws.OpCode, p []byte) error {
		if op != ws.OpText || string(p) != s {
			return fmt.Errorf("got %v %q, want text %q", op, biShort(p), s)
		}
		return nil
	}
}

// biPong matches a pong with payload s.
func biPong(s string) biMatch {
	return func(op ws.OpCode, p []byte) error {
		if op != ws.OpPong || string(p) != s {
			return fmt.Errorf("got %v %q, want a pong %q", op, biShort(p), s)
		}
		return nil
	}
}

// biType matches a JSON message of type typ.
func biType(typ string) biMatch {
	return func(op ws.OpCode, p []byte) error {
		var m struct{ Type string }
		if op != ws.OpText || json.Unmarshal(p, &m) != nil || m.Type != typ {
			return fmt.Errorf("got %v %q, want {\"type\":%q,...}", op, biShort(p), typ)
		}
		return nil
	}
}

// biErrRef matches {"type":"error"} whose error starts with prefix and
// whose ref is the JSON ref.
func biErrRef(prefix, ref string) biMatch {
	return func(op ws.OpCode, p []byte) error {
		var m struct {
			Type, Error string
			Ref         json.RawMessage
		}
		if op != ws.OpText || json.Unmarshal(p, &m) != nil || m.Type != "error" || !strings.HasPrefix(m.Error, prefix) || string(m.Ref) != ref {
			return fmt.Errorf("got %v %q, want {\"type\":\"error\",\"error\":\"%s…\",\"ref\":%s}", op, biShort(p), prefix, ref)
		}
		return nil
	}
}

// biErr matches {"type":"error"} whose error starts with prefix.
func biErr(prefix string) biMatch { return biJSONErr("error", prefix) }

// biLoginErr matches {"type":"login_error"} whose error starts with prefix.
func biLoginErr(prefix string) biMatch { return biJSONErr("login_error", prefix) }

func biJSONErr(typ, prefix string) biMatch {
	return func(op ws.OpCode, p []byte) error {
		var m struct{ Type, Error string }
		if op != ws.OpText || json.Unmarshal(p, &m) != nil || m.Type != typ || !strings.HasPrefix(m.Error, prefix) {
			return fmt.Errorf("got %v %q, want {\"type\":%q,\"error\":\"%s…\"}", op, biShort(p), typ, prefix)
		}
		return nil
	}
}

func biShort(p []byte) string {
	if len(p) > 200 {
		return string(p[:200]) + "…"
	}
	return string(p)
}

// biCloseCode returns a close payload's code (1005 if empty).
func biCloseCode(p []byte) ws.StatusCode {
	f, _ := wstest.ParseClose(p)
	return f.Code
}

// Client frames, all masked with a fresh key unless said otherwise.

const biFin = 0x80

// biFrame encodes one frame whose first byte is b0 (FIN, RSV, opcode),
// masked unless mask is false.
func biFrame(b0 byte, payload []byte, mask bool) []byte {
	return wstest.EncodeFrame(b0&biFin != 0, b0>>4&7, ws.OpCode(b0&0x0f), mask, payload)
}

// biHeader encodes only the header of a masked frame of length bytes (its
// key is all zero).
func biHeader(b0 byte, length uint64) []byte {
	return wstest.EncodeHeader(b0&biFin != 0, b0>>4&7, ws.OpCode(b0&0x0f), true, length)
}

func biText(s string) []byte { return wstest.Text([]byte(s)).Bytes() }

func biClose(code uint16, reason string) []byte {
	return wstest.Close(ws.StatusCode(code), reason).Bytes()
}

func biCat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// Tokens.

// biToken returns an HS256 token for claims signed with the jwt server's
// secret.
func biToken(t *testing.T, claims map[string]any) string {
	return biForge(t, "HS256", claims, biJWTSecret)
}

// biForge returns a compact JWS with header alg, signed with secret by
// HS256 (whatever alg claims), or unsigned when secret is empty.
func biForge(t *testing.T, alg string, claims map[string]any, secret string) string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(map[string]string{"alg": alg, "typ": "JWT"}) + "." + enc(claims)
	if secret == "" {
		return input + "."
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// waitForClose waits for the log line of a connection from from closed
// with code.
func (l *logLines) waitForClose(tb testing.TB, from netip.Addr, code int) {
	tb.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, e := range l.entries() {
			remote, _ := e["remote"].(string)
			if c, ok := e["code"].(float64); ok && e["msg"] == "connection closed" && int(c) == code && strings.HasPrefix(remote, from.String()+":") {
				return
			}
		}
	}
	tb.Fatalf("no log of a connection from %v closed with %d", from, code)
}
