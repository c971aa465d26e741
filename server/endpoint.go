package server

// Endpoint is the behaviour behind one WebSocket path. Open is called once
// per connection, on the connection's actor, and returns the Session that
// handles it.
type Endpoint interface {
	Open(c *Conn) Session
}

// Session handles one connection. Its methods are called on the
// connection's actor, one at a time, so a Session needs no locking for its
// own state and may use the Conn's methods freely. They must not block: slow
// work belongs on a pool that reports back with Conn.Notify.
type Session interface {
	// Message is called for each complete text or binary message. The
	// payload belongs to the session.
	Message(t MessageType, payload []byte)
	// Notify is called exactly once for each value Conn.Notify accepted,
	// even when the connection closes first: then after Closed, so a value
	// that carries a promise (a reply owed to another connection) can be
	// settled. Conn's write methods do nothing once closed.
	Notify(msg any)
	// Closed is called once, after the socket is closed, with the close code
	// the connection ended with and its reason.
	Closed(code StatusCode, reason string)
}

// Subprotocols is implemented by an endpoint that speaks WebSocket
// subprotocols. The handshake picks the first protocol in the client's
// Sec-WebSocket-Protocol offer that the endpoint lists, and answers with it
// (Conn.Subprotocol). When the client offers only protocols the endpoint
// does not list, or the endpoint lists none, the response names no
// protocol (RFC 6455 4.2.2): the connection is accepted, and it is the
// client's choice to fail it (browsers do).
//
// Subprotocols must return the same list every time (Conn.Subprotocol
// indexes it), of at most 255 protocols.
type Subprotocols interface {
	Subprotocols() []string
}

// EndpointFunc adapts a function to Endpoint.
type EndpointFunc func(c *Conn) Session

// Open calls f.
func (f EndpointFunc) Open(c *Conn) Session { return f(c) }

// echoSession sends every message back unchanged.
type echoSession struct{ c *Conn }

func newEcho(c *Conn) Session { return echoSession{c} }

func (e echoSession) Message(t MessageType, payload []byte) { _ = e.c.Send(t, payload) }

func (echoSession) Notify(any) {}

func (echoSession) Closed(StatusCode, string) {}
