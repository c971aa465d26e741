package main

import (
	"encoding/json"

	"github.com/chatd/chatd/server/wire"
)

// lobby is the one room: every logged-in client is in it.
const lobby = "lobby"

// loginOK is the answer to an accepted plain-text login.
var loginOK = []byte(wire.PlainLoginOK)

// login asks the hub to register c under name. The hub answers on ok, which
// has room for the answer.
type login struct {
	c    *client
	name string
	ok   chan bool
}

// routeKind says where a delivery goes.
type routeKind int

const (
	toLobby   routeKind = iota // every other logged-in client, then ack if set
	toPrivate                  // the client named to, then ack
	toSender                   // back to the sender only (an error)
)

// delivery is one frame for the hub to route. Frames are encoded by the
// sender's read goroutine, so the hub only looks up and queues (it encodes
// only the rare "receiver not online").
type delivery struct {
	kind  routeKind
	from  *client
	to    string          // toPrivate: the receiver's name
	frame []byte          // what the receivers get
	ack   []byte          // the sender's "sent", after the frame is queued
	ref   json.RawMessage // toPrivate: the request id, echoed in an error
}

// hub is gorilla's chat-example hub: one goroutine owns the set of
// logged-in clients and is the only writer to their send channels from
// registration on. Clients talk to it over register, unregister and
// broadcast; it never blocks on a client: a full send channel drops it.
type hub struct {
	register   chan login
	unregister chan *client
	broadcast  chan delivery
	quit       chan struct{} // closed by stop
	done       chan struct{} // closed when run returns

	// clients is owned by the run goroutine: logged-in clients by name.
	// A client is in it exactly while the hub may send on its channel.
	clients map[string]*client
}

func newHub() *hub {
	h := &hub{
		register:   make(chan login),
		unregister: make(chan *client),
		broadcast:  make(chan delivery),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		clients:    make(map[string]*client),
	}
	go h.run()
	return h
}

// stop ends run and waits for it. Clients still registered get their send
// channels closed, which ends their write goroutines.
func (h *hub) stop() {
	close(h.quit)
	<-h.done
}

func (h *hub) run() {
	defer close(h.done)
	for {
		select {
		case l := <-h.register:
			if _, taken := h.clients[l.name]; taken {
				l.ok <- false
				continue
			}
			l.c.name = l.name // the client's goroutines read it only after <-l.ok
			h.clients[l.name] = l.c
			l.ok <- true
			h.send(l.c, loginOK)
		case c := <-h.unregister:
			if h.clients[c.name] == c {
				delete(h.clients, c.name)
				close(c.send)
			}
		case d := <-h.broadcast:
			h.route(d)
		case <-h.quit:
			for name, c := range h.clients {
				delete(h.clients, name)
				close(c.send)
			}
			return
		}
	}
}

func (h *hub) route(d delivery) {
	switch d.kind {
	case toLobby:
		for _, c := range h.clients {
			if c != d.from {
				h.send(c, d.frame)
			}
		}
		if d.ack != nil {
			h.send(d.from, d.ack)
		}
	case toPrivate:
		to, ok := h.clients[d.to]
		if !ok {
			h.send(d.from, encode(wire.Error{Type: wire.TypeError, Error: "receiver not online", Ref: d.ref}))
			return
		}
		h.send(to, d.frame)
		h.send(d.from, d.ack)
	case toSender:
		h.send(d.from, d.frame)
	}
}

// send queues frame for c without blocking. A client whose queue is full is
// dropped: unregistered, marked slow, and its channel closed, so its write
// goroutine closes the connection with 4008. Clients no longer registered
// (dropped or gone) are skipped.
func (h *hub) send(c *client, frame []byte) {
	if h.clients[c.name] != c {
		return
	}
	select {
	case c.send <- frame:
	default:
		delete(h.clients, c.name)
		c.slow = true // read by the write goroutine after the close below
		close(c.send)
	}
}

// encode marshals a wire message. The wire types always marshal.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
