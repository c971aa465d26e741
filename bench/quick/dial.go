package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/chatd/chatd/bench/wsconn"
	"github.com/gorilla/websocket"
)

// dialer opens client WebSocket connections from fixed source addresses.
// It is safe for concurrent use.
type dialer struct {
	url     string
	src     wsconn.Sources // connection i binds src.Addr(i); see wsconn.Sources
	bufSize int            // client read and write buffer, at least one message
	timeout time.Duration
}

// dial opens connection i from its source address.
func (d dialer) dial(ctx context.Context, i int) (*websocket.Conn, error) {
	src, err := d.src.Addr(i)
	if err != nil {
		return nil, err
	}
	nd := &net.Dialer{
		Timeout:   d.timeout,
		LocalAddr: &net.TCPAddr{IP: src.AsSlice()},
		Control:   wsconn.BindNoPort, // see its comment: bind is linear otherwise
	}
	wd := websocket.Dialer{
		NetDialContext:   nd.DialContext,
		HandshakeTimeout: d.timeout,
		ReadBufferSize:   d.bufSize,
		WriteBufferSize:  d.bufSize,
	}
	c, resp, err := wd.DialContext(ctx, d.url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s from %v: %w", d.url, src, err)
	}
	return c, nil
}

// echoOnce sends msg as one binary message and waits up to timeout for the
// same bytes to come back. buf receives the reply; it must be at least
// len(msg)+1 bytes so a longer reply is detected.
func echoOnce(c *websocket.Conn, msg, buf []byte, timeout time.Duration) error {
	if err := c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if err := roundTrip(c, msg, buf); err != nil {
		return err
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return err
	}
	return c.SetWriteDeadline(time.Time{})
}

// readMessage reads the next data message into buf without allocating and
// returns its length. Pings are answered by the library while it looks for
// the next data message. A message longer than buf is an error.
func readMessage(c *websocket.Conn, buf []byte) (int, error) {
	_, r, err := c.NextReader()
	if err != nil {
		return 0, err
	}
	n, err := io.ReadFull(r, buf)
	switch err {
	case io.ErrUnexpectedEOF, io.EOF:
		return n, nil
	case nil:
		return n, fmt.Errorf("message longer than %d bytes", len(buf))
	default:
		return n, err
	}
}
