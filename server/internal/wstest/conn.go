package wstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// DefaultTimeout bounds the handshake and every read or write of a Conn made
// without WithTimeout.
const DefaultTimeout = 5 * time.Second

// Option configures Dial and DialContext.
type Option func(*options)

type options struct {
	timeout time.Duration
	header  http.Header
}

// WithTimeout sets the handshake deadline and the default deadline of every
// read, write and expectation on the Conn. Default DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithHeader adds h to the upgrade request (for example an Origin header).
func WithHeader(h http.Header) Option {
	return func(o *options) { o.header = h.Clone() }
}

// Conn is the client end of an upgraded WebSocket connection.
//
// Concurrency: one goroutine may read (Read*, Expect*) while another writes
// (Write*, Send*); two readers or two writers must not overlap. Close may be
// called from any goroutine, at any time, more than once.
type Conn struct {
	nc      net.Conn
	br      *bufio.Reader
	timeout time.Duration

	// sentClose records that a close frame was written, so that ExpectClose
	// does not answer the server's close a second time.
	sentClose atomic.Bool

	// Read state, owned by the reading goroutine.
	broken error     // sticky: the byte stream lost frame alignment
	inMsg  bool      // a fragmented data message is being assembled
	msgOp  ws.OpCode // opcode of its first frame
	msgBuf []byte    // its payload so far
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

// DialContext is Dial for code without a testing.TB. The handshake is bounded
// by ctx and by the timeout option, whichever ends first.
func DialContext(ctx context.Context, url string, opts ...Option) (*Conn, error) {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	d := ws.Dialer{Timeout: o.timeout}
	if o.header != nil {
		d.Header = ws.HandshakeHeaderHTTP(o.header)
	}
	nc, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("wstest: dial %s: %w", url, err)
	}
	if br == nil {
		// The server sent nothing after its handshake response yet.
		br = bufio.NewReaderSize(nc, 64<<10)
	}
	return &Conn{nc: nc, br: br, timeout: o.timeout}, nil
}

// Timeout returns the Conn's default deadline for one operation.
func (c *Conn) Timeout() time.Duration { return c.timeout }

// NetConn returns the underlying TCP connection, for tests that need
// socket-level control such as a half close. Reading from it directly
// bypasses the Conn's buffer.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the TCP connection without a closing handshake.
func (c *Conn) Close() error {
	err := c.nc.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
