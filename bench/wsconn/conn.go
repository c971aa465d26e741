package wsconn

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// MaxMessageBytes bounds one server message, all fragments together.
const MaxMessageBytes = 16 << 20

// CloseError is returned by Read when the server sent a close frame. Code is
// 1005 when the frame carried no code.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("closed by server: %d %s", e.Code, e.Reason)
}

// ErrMessageTooBig: a server message exceeded MaxMessageBytes.
var ErrMessageTooBig = errors.New("server message too big")

// Conn is one client WebSocket connection.
//
// Concurrency: one goroutine reads (Read, ReadText); any goroutines may write
// (the write methods serialise on a mutex, which Read also takes to answer
// pings). Close may be called at any time, from any goroutine, and unblocks
// both.
type Conn struct {
	nc net.Conn
	br *bufio.Reader

	// Reader state, owned by the reading goroutine.
	hdr []byte // header scratch, 14 bytes
	msg []byte // message being assembled; reused
	ctl []byte // control payload scratch

	wmu  sync.Mutex // guards wbuf, rng and writes to nc
	wbuf []byte
	rng  *rand.PCG

	pongs chan []byte // payloads of pongs received, for Ping; buffered 1
}

func newConn(nc net.Conn, br *bufio.Reader) *Conn {
	return &Conn{
		nc:    nc,
		br:    br,
		hdr:   make([]byte, ws.MaxHeaderSize),
		rng:   rand.NewPCG(rand.Uint64(), rand.Uint64()),
		pongs: make(chan []byte, 1),
	}
}

// LocalAddr is the connection's local address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// WriteText sends p as one masked text frame.
func (c *Conn) WriteText(p []byte) error { return c.write(ws.OpText, p) }

// WriteBinary sends p as one masked binary frame.
func (c *Conn) WriteBinary(p []byte) error { return c.write(ws.OpBinary, p) }

// Ping sends a ping with payload p (at most 125 bytes) and waits up to
// timeout for a pong. Pongs arrive through Read, so another goroutine must
// be reading.
func (c *Conn) Ping(p []byte, timeout time.Duration) error {
	select { // drop a stale pong
	case <-c.pongs:
	default:
	}
	if err := c.write(ws.OpPing, p); err != nil {
		return err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case got := <-c.pongs:
			if string(got) == string(p) {
				return nil
			}
		case <-t.C:
			return fmt.Errorf("no pong within %v", timeout)
		}
	}
}

// WriteClose sends a close frame with code (no reason).
func (c *Conn) WriteClose(code int) error {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], uint16(code))
	return c.write(ws.OpClose, b[:])
}

// SetReadDeadline bounds the reads that follow.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// Close closes the TCP connection without a closing handshake; the server
// sees EOF. It unblocks a pending Read or write.
func (c *Conn) Close() error { return c.nc.Close() }

// write frames p with a fresh mask key and writes it with one syscall.
func (c *Conn) write(op ws.OpCode, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n := len(p)
	b := c.wbuf[:0]
	b = append(b, 0x80|byte(op))
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], uint32(c.rng.Uint64()))
	b = append(b, mask[:]...)
	start := len(b)
	b = append(b, p...)
	ws.Cipher(b[start:], mask, 0)
	c.wbuf = b
	_, err := c.nc.Write(b)
	if cap(c.wbuf) > 64<<10 { // do not keep a huge buffer per connection
		c.wbuf = nil
	}
	return err
}

// Read returns the next data message. The returned slice is valid until the
// next Read. Pings are answered, pongs are handed to Ping, and a close frame
// is answered with the same code and returned as *CloseError.
func (c *Conn) Read() (ws.OpCode, []byte, error) {
	c.msg = c.msg[:0]
	var op ws.OpCode
	for {
		h, err := ws.ReadHeaderBuffer(c.br, c.hdr)
		if err != nil {
			return 0, nil, err
		}
		if h.OpCode.IsControl() {
			if err := c.control(h); err != nil {
				return 0, nil, err
			}
			continue
		}
		if h.OpCode != ws.OpContinuation {
			op = h.OpCode
		}
		if int64(len(c.msg))+h.Length > MaxMessageBytes {
			return 0, nil, ErrMessageTooBig
		}
		start := len(c.msg)
		c.msg = grow(c.msg, int(h.Length))
		if _, err := io.ReadFull(c.br, c.msg[start:]); err != nil {
			return 0, nil, err
		}
		if h.Masked {
			ws.Cipher(c.msg[start:], h.Mask, 0)
		}
		if h.Fin {
			return op, c.msg, nil
		}
	}
}

// control handles one control frame.
func (c *Conn) control(h ws.Header) error {
	if h.Length > 125 {
		return fmt.Errorf("control frame of %d bytes", h.Length)
	}
	c.ctl = grow(c.ctl[:0], int(h.Length))
	if _, err := io.ReadFull(c.br, c.ctl); err != nil {
		return err
	}
	if h.Masked {
		ws.Cipher(c.ctl, h.Mask, 0)
	}
	switch h.OpCode {
	case ws.OpPing:
		return c.write(ws.OpPong, c.ctl)
	case ws.OpPong:
		select {
		case c.pongs <- append([]byte(nil), c.ctl...):
		default:
		}
		return nil
	case ws.OpClose:
		ce := &CloseError{Code: 1005}
		if len(c.ctl) >= 2 {
			ce.Code = int(binary.BigEndian.Uint16(c.ctl))
			ce.Reason = string(c.ctl[2:])
			_ = c.WriteClose(ce.Code)
		} else {
			_ = c.write(ws.OpClose, nil)
		}
		return ce
	default:
		return fmt.Errorf("unknown control opcode %d", h.OpCode)
	}
}

// grow extends b by n bytes, reallocating only when its capacity is short.
func grow(b []byte, n int) []byte {
	if need := len(b) + n; need > cap(b) {
		nb := make([]byte, len(b), max(need, 2*cap(b)))
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}
