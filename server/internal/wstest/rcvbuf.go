package wstest

import (
	"context"
	"net"
	"syscall"
	"testing"

	"github.com/gobwas/ws"
)

// DialReceiveBuffer connects to url with the client socket's receive buffer
// set to rcvbuf bytes (0: the kernel's default) and returns the plain
// connection after the handshake, for tests of slow readers: with a small
// buffer the server's writes back up as soon as the client stops reading.
// It fails tb if the handshake does not succeed within DefaultTimeout or if
// the server sent data before the client spoke, and closes the connection
// when tb's test ends.
func DialReceiveBuffer(tb testing.TB, url string, rcvbuf int) net.Conn {
	tb.Helper()
	d := ws.Dialer{Timeout: DefaultTimeout, NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			if rcvbuf == 0 {
				return nil
			}
			return rc.Control(func(fd uintptr) {
				_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
		}}
		return nd.DialContext(ctx, network, addr)
	}}
	nc, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		tb.Fatalf("wstest: dial %s: %v", url, err)
	}
	tb.Cleanup(func() { nc.Close() })
	if br != nil {
		tb.Fatalf("wstest: %s sent data before the client spoke", url)
	}
	return nc
}
