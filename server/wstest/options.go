package wstest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// Option configures Dial and DialContext.
type Option func(*options)

type options struct {
	timeout   time.Duration
	header    http.Header
	rawHeader string
	protocols []string
	rcvbuf    int
	local     netip.Addr
	deflate   []DeflateOffer
	tls       *tls.Config
}

// WithTimeout sets the handshake deadline and the default deadline of every
// read, write and expectation on the Conn (see SetTimeout); 0 means none.
// Default DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithHeader adds h to the upgrade request (for example an Origin header).
func WithHeader(h http.Header) Option {
	return func(o *options) { o.header = h.Clone() }
}

// WithRawHeader adds header lines to the upgrade request exactly as
// written, each ending in "\r\n", for tests of how a server parses them
// ("X-Test:  v1 \r\n" keeps its spaces, which WithHeader would trim).
func WithRawHeader(lines string) Option {
	return func(o *options) { o.rawHeader = lines }
}

// WithProtocols offers subprotocols in Sec-WebSocket-Protocol, in order of
// preference; Conn.Protocol returns the one the server chose.
func WithProtocols(protocols ...string) Option {
	return func(o *options) { o.protocols = protocols }
}

// WithReceiveBuffer sets the client socket's receive buffer (SO_RCVBUF) to
// n bytes before it connects, for tests of slow readers: with a small
// buffer the server's writes back up as soon as the client stops reading.
// The kernel may round n up; 0 leaves its default.
func WithReceiveBuffer(n int) Option {
	return func(o *options) { o.rcvbuf = n }
}

// WithLocalAddr connects from the local address addr (any address of
// 127.0.0.0/8 works on loopback without setup), for tests of per-address
// limits.
func WithLocalAddr(addr netip.Addr) Option {
	return func(o *options) { o.local = addr }
}

// WithTLS sets the client's TLS configuration for wss:// URLs (the CA to
// trust, a client certificate).
func WithTLS(c *tls.Config) Option {
	return func(o *options) { o.tls = c }
}

// dialer returns the ws.Dialer that the options describe.
func (o *options) dialer() ws.Dialer {
	d := ws.Dialer{Timeout: o.timeout, Protocols: o.protocols, TLSConfig: o.tls}
	for _, offer := range o.deflate {
		d.Extensions = append(d.Extensions, offer.option())
	}
	if o.header != nil || o.rawHeader != "" {
		d.Header = ws.HandshakeHeaderFunc(func(w io.Writer) (int64, error) {
			var n int64
			if o.header != nil {
				m, err := ws.HandshakeHeaderHTTP(o.header).WriteTo(w)
				if n += m; err != nil {
					return n, err
				}
			}
			m, err := io.WriteString(w, o.rawHeader)
			return n + int64(m), err
		})
	}
	if o.rcvbuf == 0 && !o.local.IsValid() {
		return d
	}
	nd := net.Dialer{}
	if o.local.IsValid() {
		nd.LocalAddr = &net.TCPAddr{IP: o.local.AsSlice()}
	}
	if n := o.rcvbuf; n > 0 {
		nd.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
			})
			if err = errors.Join(err, serr); err != nil {
				return fmt.Errorf("SO_RCVBUF %d: %w", n, err)
			}
			return nil
		}
	}
	d.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nd.DialContext(ctx, network, addr)
	}
	return d
}
