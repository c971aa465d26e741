package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/chatd/chatd/server/internal/deflate"
)

// The handshake runs on the same non-blocking path as frames: the
// connection's loop appends what the socket has to the connection's head buffer and, once the
// head is complete, routes it and builds the response. The actor writes
// the response. A client that dribbles its request costs a buffer, never a
// goroutine; handshake.timeout bounds it.

// readHandshake runs on the connection's loop while the request head is
// incomplete; buf is the loop's read buffer.
func (c *Conn) readHandshake(buf []byte) {
	s := c.srv
	limit := c.srv.settings().maxHeaderBytes
	for !c.eof {
		// At least one byte: Reconfigure may have lowered the limit below
		// what was read already, which the check below then answers.
		want := buf[:min(len(buf), max(limit-len(c.head), 1))]
		var n int
		var err error
		if c.tls == nil {
			n, err = c.sock.read(want)
			c.loop.st.bytesIn.Add(uint64(max(n, 0)))
		} else {
			n, err = c.tls.read(want)
			if !c.tlsWroteOnRead() {
				return
			}
		}
		if isEAGAIN(err) {
			return
		}
		if err != nil || n == 0 {
			c.endOfInput(reasonPeerGone)
			return
		}
		c.head = append(c.head, buf[:n]...)
		if end := endOfHead(c.head); end >= 0 {
			head, rest := c.head[:end], c.head[end:]
			c.head = nil
			c.route(head, rest)
			return
		}
		if len(c.head) >= limit {
			c.head = nil
			s.handshakeFailed(hsTooLarge)
			c.reply(431, "Request Header Fields Too Large", "request head larger than the server accepts\n", "")
			return
		}
	}
}

// route answers a complete request head: an HTTP response, or the upgrade.
// rest holds what the client sent after the head.
func (c *Conn) route(head, rest []byte) {
	s := c.srv
	req, err := parseHead(head)
	if err != nil {
		s.handshakeFailed(hsMalformed)
		c.reply(400, "Bad Request", "malformed HTTP request\n", "")
		return
	}
	c.target = req.path
	reply := c.reply
	if req.method == http.MethodHead {
		reply = c.replyHead
	}
	if req.path == "/healthz" {
		body := "ok\n"
		if s.health != nil {
			if d := s.health(); d != "" {
				body = d + "\n"
			}
		}
		reply(200, "OK", body, "")
		return
	}
	ep, eps, ok := s.endpoint(req.path)
	if !ok {
		if !req.upgrade && c.serveFile(req) {
			return
		}
		if req.upgrade {
			s.handshakeFailed(hsNotFound)
		}
		reply(404, "Not Found", "no such endpoint: "+req.path+"\n", "")
		return
	}
	if !req.upgrade {
		s.handshakeFailed(hsNotUpgrade)
		scheme := "ws"
		if c.tls != nil {
			scheme = "wss"
		}
		reply(426, "Upgrade Required",
			req.path+" is a WebSocket endpoint: connect with a WebSocket client ("+scheme+"://host"+req.path+").\n",
			"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n")
		return
	}
	var resp bytes.Buffer
	rw := struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(head), &resp}
	u := s.settings().upgrader // a copy: Protocol and Negotiate are this handshake's
	if sp, ok := ep.(Subprotocols); ok {
		offered := sp.Subprotocols()
		u.Protocol = func(p []byte) bool {
			for i, o := range offered {
				if string(p) == o && i < 255 {
					c.protocol = uint8(i + 1)
					return true
				}
			}
			return false
		}
	}
	var neg *deflate.Negotiator
	if s.cfg.Compression.Enabled {
		neg = &deflate.Negotiator{}
		u.Negotiate = neg.Negotiate
	}
	if _, err := u.Upgrade(rw); err != nil {
		if ce := s.log.Check(zap.DebugLevel, "upgrade rejected"); ce != nil {
			ce.Write(zap.Stringer("remote", c.remote), zap.String("path", req.path), zap.Error(err))
		}
		c.rejectUpgrade(err, reply)
		return
	}
	c.ep, c.eps = ep, eps
	eps.opened.Add(1)
	if neg != nil {
		c.deflate = neg.Bits
	}
	c.head = head // for RequestHeaders, until Open returns
	if req.query != "" {
		c.target = req.path + "?" + req.query
	}
	c.leaveHandshake()
	c.upgraded.Store(true)
	c.lastRead.Store(nowNano())
	if !c.deliver(event{kind: evUpgraded, data: resp.Bytes()}, rest) {
		return
	}
	if len(rest) > 0 && !c.consume(rest) {
		return
	}
	c.rearm()
}

// reply sends a plain-text HTTP response and closes the connection.
func (c *Conn) reply(code int, status, body, extraHeaders string) {
	c.answer(code, status, body, extraHeaders, true)
}

// replyHead answers a HEAD request: reply's headers, no body (RFC 9110 9.3.2).
func (c *Conn) replyHead(code int, status, body, extraHeaders string) {
	c.answer(code, status, body, extraHeaders, false)
}

func (c *Conn) answer(code int, status, body, extraHeaders string, withBody bool) {
	if ce := c.srv.log.Check(zap.DebugLevel, "http request"); ce != nil {
		ce.Write(zap.Stringer("remote", c.remote), zap.String("path", c.target), zap.Int("status", code))
	}
	resp := fmt.Sprintf("HTTP/1.1 %d %s\r\n%sContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		code, status, extraHeaders, len(body))
	if withBody {
		resp += body
	}
	c.eof = true // read no more: the answer is final
	c.setInterest()
	c.deliver(event{kind: evReply, data: []byte(resp)}, nil)
}

// rejectUpgrade answers an upgrade the Upgrader refused (400, 403, 405,
// 426...) with the Upgrader's status and reason, in chatd's own format: a
// one-line body and Connection: close, like every other answer. (The
// Upgrader's own response says nothing of the connection closing.)
func (c *Conn) rejectUpgrade(err error, reply func(code int, status, body, extraHeaders string)) {
	code, reason := http.StatusBadRequest, "malformed WebSocket upgrade request"
	var rej *ws.ConnectionRejectedError
	if errors.As(err, &rej) && rej.StatusCode() != 0 {
		code, reason = rej.StatusCode(), rej.Error()
	}
	if code == http.StatusForbidden {
		c.srv.handshakeFailed(hsOrigin)
	} else {
		c.srv.handshakeFailed(hsRejected)
	}
	extra := ""
	if code == http.StatusUpgradeRequired {
		extra = "Sec-WebSocket-Version: 13\r\n" // RFC 6455 4.4
	}
	reply(code, http.StatusText(code), reason+"\n", extra)
}

// upgradeDone runs on the actor: it writes the 101 response and opens the
// endpoint's session.
func (c *Conn) upgradeDone(resp []byte) {
	if c.state != stateHandshake {
		return
	}
	c.state = stateOpen
	c.queue(resp, nil)
	if c.state != stateOpen { // the write failed
		return
	}
	if ce := c.srv.log.Check(zapcore.InfoLevel, "connection opened"); ce != nil {
		ce.Write(c.fields()...)
	}
	c.sess = c.ep.Open(c)
	c.dropQuery() // Query is for Open only
}

// replyAndClose runs on the actor: it writes an HTTP response, then closes
// the socket once it is written.
func (c *Conn) replyAndClose(resp []byte) {
	if c.state != stateHandshake {
		return
	}
	c.startClosing(0, "http response sent")
	c.endAfter = true
	c.queue(resp, nil)
}

// newUpgrader returns the Upgrader shared by all handshakes. It rejects an
// Origin outside the allow-list with 403; an empty list allows any origin.
func newUpgrader(allowed []string) ws.Upgrader {
	u := ws.Upgrader{}
	if len(allowed) == 0 {
		return u
	}
	set := make(map[string]struct{}, len(allowed))
	for _, o := range allowed {
		set[strings.ToLower(o)] = struct{}{}
	}
	u.OnHeader = func(key, value []byte) error {
		if !strings.EqualFold(string(key), "Origin") {
			return nil
		}
		if _, ok := set[strings.ToLower(string(value))]; !ok {
			return ws.RejectConnectionError(ws.RejectionStatus(403), ws.RejectionReason("origin not allowed"))
		}
		return nil
	}
	return u
}
