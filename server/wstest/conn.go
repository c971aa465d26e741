package wstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// DefaultTimeout bounds the handshake and every read or write of a Conn made
// without WithTimeout.
const DefaultTimeout = 5 * time.Second

// Conn is the client end of an upgraded WebSocket connection.
//
// Concurrency: one goroutine may read (Read*, Next*, Expect*, Buffered)
// while another writes (Write*, Send*); two readers or two writers must not
// overlap. Writes are serialised with the pongs and close replies that
// readers write, so a reader that answers a ping never splits a frame that a
// writer is writing (WriteRaw excepted: it cannot know where its frames
// end). Close, SetTimeout and Timeout may be called from any goroutine, at
// any time.
type Conn struct {
	nc       net.Conn
	br       *bufio.Reader
	protocol string
	// deflate is the negotiated permessage-deflate, or nil (set at dial).
	deflate *clientDeflate
	timeout atomic.Int64 // time.Duration; 0: no deadline

	// wmu serialises writes: a test's own and the replies ReadData writes.
	wmu sync.Mutex

	// sentClose records that a close frame was written, so that ExpectClose
	// and ReadData do not answer the server's close a second time.
	sentClose atomic.Bool

	// Read state, owned by the reading goroutine.
	broken error     // sticky: the byte stream lost frame alignment
	inMsg  bool      // a fragmented data message is being assembled
	msgOp  ws.OpCode // opcode of its first frame
	msgBuf []byte    // its payload so far
	msgZ   bool      // it is compressed (RSV1 on its first frame)
	// lastZ: the last data message read came compressed.
	lastZ bool
}

// Dial connects to url (ws://host:port/path), performs the opening handshake
// and returns the Conn. It fails tb if that does not succeed within the
// timeout, and closes the Conn when tb's test ends.
func Dial(tb testing.TB, url string, opts ...Option) *Conn {
	tb.Helper()
	c, err := DialContext(context.Background(), url, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// DialContext is Dial for code without a testing.TB, or for a test whose
// dials share one context. The handshake is bounded by ctx and by the
// timeout option, whichever ends first. The caller closes the Conn.
func DialContext(ctx context.Context, url string, opts ...Option) (*Conn, error) {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	d := o.dialer()
	nc, br, hs, err := d.Dial(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("wstest: dial %s: %w", url, err)
	}
	c := NewConn(nc, br, o.timeout)
	c.protocol = hs.Protocol
	if o.deflate != nil {
		if c.deflate, err = acceptDeflate(o.deflate, hs.Extensions); err != nil {
			c.Close()
			return nil, fmt.Errorf("wstest: dial %s: %w", url, err)
		}
	}
	return c, nil
}

// NewConn makes a Conn of nc, a connection whose opening handshake the test
// performed itself (a hand-written upgrade request, say). br, if not nil,
// holds what was read from nc past the handshake response; timeout is the
// Conn's default deadline (0: none).
func NewConn(nc net.Conn, br *bufio.Reader, timeout time.Duration) *Conn {
	if br == nil {
		br = bufio.NewReader(nc)
	}
	c := &Conn{nc: nc, br: br}
	c.timeout.Store(int64(timeout))
	return c
}

// Timeout returns the Conn's default deadline for one operation.
func (c *Conn) Timeout() time.Duration { return time.Duration(c.timeout.Load()) }

// SetTimeout changes the default deadline of the operations that start
// after it: the Expect*, Next* and Send* methods and every write. 0 means no
// deadline at all, for a benchmark's long-lived reader.
func (c *Conn) SetTimeout(d time.Duration) { c.timeout.Store(int64(d)) }

// deadlineAfter returns the deadline of an operation of timeout d that
// starts now: the zero time (none) if d is 0, already passed if d is
// negative (time.Until of a passed deadline).
func deadlineAfter(d time.Duration) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// Protocol returns the subprotocol the server chose ("" if none; see
// WithProtocols).
func (c *Conn) Protocol() string { return c.protocol }

// Buffered returns the number of bytes read from the server and not yet
// consumed; right after Dial, the bytes the server sent before the client
// spoke.
func (c *Conn) Buffered() int { return c.br.Buffered() }

// NetConn returns the underlying TCP connection, for tests that need
// socket-level control such as a half close. Reading from it directly
// bypasses the Conn's buffer.
func (c *Conn) NetConn() net.Conn { return c.nc }

// LastCompressed reports whether the last data message read came
// compressed (permessage-deflate; see WithDeflate).
func (c *Conn) LastCompressed() bool { return c.lastZ }

// Close closes the TCP connection without a closing handshake.
func (c *Conn) Close() error {
	err := c.nc.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
