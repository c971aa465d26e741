package server

import (
	"github.com/gobwas/ws"
)

// Endpoint is the behaviour behind one WebSocket path. Its methods are called
// on the connection's actor, one at a time per connection, so an endpoint
// may use the Conn's methods freely inside them. They must not block: slow
// work belongs on a pool that posts its result back.
type Endpoint interface {
	// Open is called once, before any message.
	Open(c *Conn)
	// Message is called for each complete text or binary message. The
	// payload belongs to the endpoint.
	Message(c *Conn, op ws.OpCode, payload []byte)
	// Closed is called once, after the socket is closed, with the close code
	// the connection ended with and its reason.
	Closed(c *Conn, code ws.StatusCode, reason string)
}

// echoEndpoint sends every message back unchanged.
type echoEndpoint struct{}

func (echoEndpoint) Open(*Conn) {}

func (echoEndpoint) Message(c *Conn, op ws.OpCode, payload []byte) { c.WriteMessage(op, payload) }

func (echoEndpoint) Closed(*Conn, ws.StatusCode, string) {}
