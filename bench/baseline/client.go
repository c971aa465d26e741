package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/server/wire"
)

const (
	// sendQueue is the per-connection send channel's capacity, as in
	// gorilla's chat example.
	sendQueue = 256
	// writeWait bounds each write, as in gorilla's chat example.
	writeWait = 10 * time.Second
	// closeSlowConsumer is chatd's close code for a client that does not
	// keep up.
	closeSlowConsumer = 4008
	// maxNameLength is chatd's longest name, in characters.
	maxNameLength = 32
)

// client is one /ws connection: readPump runs on the connection's net/http
// goroutine, writePump on its own.
//
// send is owned by readPump until the hub accepts the login, by the hub
// after that: only the owner sends on it or closes it. writePump drains it
// and is the only writer to conn, besides gorilla's concurrency-safe
// WriteControl and Close.
type client struct {
	srv  *Server
	hub  *hub
	conn *websocket.Conn
	send chan []byte

	name string // set by the hub at login; read by readPump after it
	slow bool   // set by send's owner before it closes send
}

// readPump reads until the connection fails, then hands send back to be
// closed, which ends writePump.
func (c *client) readPump() {
	loggedIn := false
	defer func() {
		if !loggedIn {
			close(c.send)
			return
		}
		select {
		case c.hub.unregister <- c:
		case <-c.hub.done:
		}
	}()
	for {
		op, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		if loggedIn {
			if !c.chat(op, msg) {
				return
			}
			continue
		}
		var ok bool
		if loggedIn, ok = c.login(op, msg); !ok {
			return
		}
	}
}

// login handles one message before login: it is the name to log in as.
// ok is false if the connection is to end.
func (c *client) login(op int, msg []byte) (loggedIn, ok bool) {
	if op != websocket.TextMessage {
		return false, c.reply("binary messages are not accepted before login: send your name as text")
	}
	name := string(msg)
	if reason := checkName(name); reason != "" {
		return false, c.reply(reason)
	}
	l := login{c: c, name: name, ok: make(chan bool, 1)}
	select {
	case c.hub.register <- l:
	case <-c.hub.done:
		return false, false
	}
	if <-l.ok {
		return true, true // the hub has sent "True"
	}
	return false, c.reply("name is already online")
}

// reply queues a refusal while readPump still owns send. A client that lets
// sendQueue refusals pile up is dropped like a slow one.
func (c *client) reply(reason string) bool {
	select {
	case c.send <- []byte(reason):
		return true
	default:
		c.slow = true
		return false
	}
}

// checkName applies chatd's name rules and returns chatd's reason, or "".
func checkName(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "name is empty"
	case n > maxNameLength:
		return fmt.Sprintf("name is longer than %d characters", maxNameLength)
	case !utf8.ValidString(name):
		return "name is not valid UTF-8"
	}
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			return "name contains whitespace"
		case unicode.IsControl(r):
			return "name contains a control character"
		case r == ':':
			return "name contains ':'"
		}
	}
	return ""
}

// chat handles one message after login: it encodes what the receivers get
// and hands it to the hub. It returns false if the hub has stopped.
func (c *client) chat(op int, msg []byte) bool {
	if op != websocket.TextMessage {
		return c.toHub(c.errorFor("binary messages are not supported: send text or JSON", nil))
	}
	t := bytes.TrimSpace(msg)
	if len(t) == 0 || t[0] != '{' {
		data := encode(string(msg))
		return c.toHub(c.message(lobby, "", data, nil))
	}
	var req wire.Request
	if err := json.Unmarshal(t, &req); err != nil {
		return c.toHub(c.errorFor("invalid JSON: "+err.Error(), nil))
	}
	switch {
	case req.Type != "" && req.Type != wire.TypeMessage:
		return c.toHub(c.errorFor(fmt.Sprintf("unknown type %q", req.Type), req.ID))
	case req.Sender != "" && req.Sender != c.name:
		return c.toHub(c.errorFor("sender must be your own name, "+c.name, req.ID))
	case req.Data == nil:
		return c.toHub(c.errorFor("a message needs data", req.ID))
	case req.Receiver != "" && req.Room != "":
		return c.toHub(c.errorFor("a message goes to a room or a receiver, not both", req.ID))
	case req.Receiver != "":
		if reason := checkName(req.Receiver); reason != "" {
			return c.toHub(c.errorFor("invalid receiver: "+reason, req.ID))
		}
		return c.toHub(c.message("", req.Receiver, req.Data, req.ID))
	case req.Room != "" && req.Room != lobby:
		return c.toHub(c.errorFor("not a member of room "+req.Room+": join it first", req.ID))
	default:
		return c.toHub(c.message(lobby, "", req.Data, req.ID))
	}
}

// message stamps and encodes a message to room or to receiver. The sender
// gets "sent" only when the request had an id, as from chatd.
func (c *client) message(room, receiver string, data, ref json.RawMessage) delivery {
	id, now := c.srv.ids.Add(1), time.Now()
	d := delivery{kind: toLobby, from: c, to: receiver, ref: ref}
	if receiver != "" {
		d.kind = toPrivate
	}
	d.frame = encode(wire.Message{Type: wire.TypeMessage, ID: id, Sender: c.name, Room: room, Receiver: receiver, Data: data, TS: now.UnixMilli()})
	if ref != nil {
		d.ack = encode(wire.Sent{Type: wire.TypeSent, ID: id, Status: wire.StatusDelivered, Ref: ref})
	}
	return d
}

func (c *client) errorFor(reason string, ref json.RawMessage) delivery {
	return delivery{kind: toSender, from: c, frame: encode(wire.Error{Type: wire.TypeError, Error: reason, Ref: ref})}
}

// toHub blocks until the hub takes d: a busy hub slows the reader, and TCP
// slows the client. It returns false if the hub has stopped.
func (c *client) toHub(d delivery) bool {
	select {
	case c.hub.broadcast <- d:
		return true
	case <-c.hub.done:
		return false
	}
}

// writePump writes what arrives on send, one frame per message, until send
// is closed, then closes the connection (with 4008 first if it was dropped
// as slow). A failed write closes the connection at once; readPump then
// fails and has send closed.
func (c *client) writePump() {
	defer c.conn.Close()
	for msg := range c.send {
		c.conn.SetWriteDeadline(time.Now().Add(writeWait))
		if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			return
		}
	}
	if c.slow {
		bye := websocket.FormatCloseMessage(closeSlowConsumer, "slow consumer")
		c.conn.WriteControl(websocket.CloseMessage, bye, time.Now().Add(writeWait))
	}
}
