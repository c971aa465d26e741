package wsconn

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/gobwas/ws"
)

// Classify names the cause of a dial, handshake or read error briefly
// enough to count errors by cause: "connect: refused", "connect: timeout",
// "handshake: HTTP 404", "closed: 4008", "eof", … Unknown errors map to
// "other: " plus the error's text.
func Classify(err error) string {
	var ce *CloseError
	var se ws.StatusError
	var op *net.OpError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ce):
		return "closed: " + strconv.Itoa(ce.Code)
	case errors.As(err, &se):
		return "handshake: HTTP " + strconv.Itoa(int(se))
	case errors.Is(err, ws.ErrHandshakeBadProtocol), errors.Is(err, ws.ErrHandshakeBadUpgrade),
		errors.Is(err, ws.ErrHandshakeBadConnection), errors.Is(err, ws.ErrHandshakeBadSecAccept):
		return "handshake: bad response"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connect: refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "connect: no free source port"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "client: too many open files"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		if errors.As(err, &op) && op.Op == "dial" {
			return "connect: timeout"
		}
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, net.ErrClosed):
		return "closed by client"
	case errors.Is(err, ErrMessageTooBig):
		return "message too big"
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return "timeout"
	}
	return "other: " + err.Error()
}

// CloseCode is the close code to count for a connection whose reader ended
// with err: the server's code from its close frame, 1006 when the connection
// ended without one, or 0 when err is nil.
func CloseCode(err error) int {
	var ce *CloseError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ce):
		return ce.Code
	default:
		return 1006
	}
}
