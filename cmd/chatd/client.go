package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/chatd/chatd/server/wire"
)

// closeWait is how long the client waits for the server's close frame after
// sending its own.
const closeWait = 2 * time.Second

// headerFlags is the repeatable -H flag.
type headerFlags http.Header

func (h headerFlags) String() string { return "" }

func (h headerFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want 'Name: value', got %q", v)
	}
	http.Header(h).Add(strings.TrimSpace(name), strings.TrimSpace(value))
	return nil
}

// runClient is `chatd client URL` (args are what follows "client"): it
// sends each line of stdin as a text message and prints each message
// received on its own line, rendering /ws chat (see chatView). "close",
// /quit, end of input or a value from signals closes the connection with
// 1000. It returns the exit status: 0 after a clean close, 1 when the dial
// fails or the connection breaks, 2 for a usage error.
func runClient(args []string, stdin io.Reader, stdout, stderr io.Writer, signals <-chan os.Signal) int {
	fs := flag.NewFlagSet("chatd client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	header := headerFlags{}
	origin := fs.String("origin", "", "send this Origin header")
	timeout := fs.Duration("timeout", 10*time.Second, "time limit for the dial and the handshake")
	raw := fs.Bool("raw", false, "print messages as received and send lines as typed, even on /ws (no commands)")
	fs.Var(header, "H", "add the request header `'Name: value'` (repeatable), e.g. -H 'Authorization: Bearer TOKEN'")
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), `Usage:
  chatd client [-origin URL] [-H 'Name: value']... [-timeout 10s] [-raw] URL

Sends each line of standard input as a text message and prints each message
received on its own line. "close", /quit or end of input closes the
connection. On a /ws URL chat is rendered readably and these commands work:
  /join ROOM  /leave ROOM  /msg USER TEXT  /who [ROOM]  /rooms  /quit
any other line is sent as typed (before login: the login attempt).

Flags:
`)
		fs.PrintDefaults()
	}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(fs.Output(), "chatd client: want one URL, got %d arguments\n", fs.NArg())
		fs.Usage()
		return 2
	}
	target := fs.Arg(0)
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		fmt.Fprintf(stderr, "chatd client: %q is not a ws:// or wss:// URL\n", target)
		return 2
	}
	if *origin != "" {
		http.Header(header).Set("Origin", *origin)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	d := ws.Dialer{Header: ws.HandshakeHeaderHTTP(header), Timeout: *timeout}
	conn, br, _, err := d.Dial(ctx, target)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "chatd client: dial %s: %v\n", target, err)
		return 1
	}
	defer conn.Close()
	var src io.Reader = conn
	if br != nil { // the server wrote past the handshake response
		src = io.MultiReader(br, conn)
	}

	var view *chatView
	if !*raw && strings.HasSuffix(u.Path, "/ws") {
		view = newChatView()
	}
	c := &clientConn{conn: conn, src: src, out: stdout, view: view, done: make(chan error, 1)}
	go c.readLoop()

	lines := make(chan string)
	stop := make(chan struct{})
	defer close(stop)
	go readLines(stdin, lines, stop)

	for {
		select {
		case line, ok := <-lines:
			if !ok || line == "close" || (view != nil && line == "/quit") {
				return c.close(stderr)
			}
			msg := []byte(line)
			if view != nil {
				msg = view.outgoing(line)
			}
			if err := c.send(msg); err != nil {
				fmt.Fprintf(stderr, "chatd client: send: %v\n", err)
				return 1
			}
		case err := <-c.done:
			return c.ended(err, stderr)
		case <-signals:
			return c.close(stderr)
		}
	}
}

// readLines sends the lines of r, without their line endings, to lines
// until r ends or stop is closed; then it closes lines. If stdin never ends
// (a terminal) the goroutine stays blocked in Read until the process exits.
func readLines(r io.Reader, lines chan<- string, stop <-chan struct{}) {
	defer close(lines)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		select {
		case lines <- strings.TrimSuffix(sc.Text(), "\r"):
		case <-stop:
			return
		}
	}
}

// clientConn is the client's connection. The main loop sends; readLoop
// reads and answers control frames; both write through write, which is
// safe for concurrent use.
type clientConn struct {
	conn net.Conn
	src  io.Reader // conn, after what the dialer buffered
	out  io.Writer // written by readLoop only, until done is sent
	view *chatView // nil: print messages as they come

	mu      sync.Mutex // guards closing and writes to conn
	closing bool       // our close frame is sent: write nothing more

	done chan error // readLoop's end: a wsutil.ClosedError, or the read error
}

// Write writes one whole frame (callers never split one), unless our close
// frame has gone out: after it a WebSocket endpoint sends nothing more, so
// the answer wsutil would give to the server's close is dropped.
func (c *clientConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return len(p), nil
	}
	return c.conn.Write(p)
}

// writeFrame writes f in one Write; close marks the end of our sending.
func (c *clientConn) writeFrame(f ws.Frame, close bool) error {
	var buf bytes.Buffer
	if err := ws.WriteFrame(&buf, ws.MaskFrameInPlace(f)); err != nil {
		return err
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(closeWait))
	_, err := c.Write(buf.Bytes())
	if close {
		c.mu.Lock()
		c.closing = true
		c.mu.Unlock()
	}
	return err
}

func (c *clientConn) send(p []byte) error { return c.writeFrame(ws.NewTextFrame(p), false) }

// readLoop prints each message received until the connection ends.
func (c *clientConn) readLoop() {
	rw := struct {
		io.Reader
		io.Writer
	}{c.src, c}
	for {
		msg, op, err := wsutil.ReadServerData(rw)
		if err != nil {
			c.done <- err
			return
		}
		switch {
		case op == ws.OpBinary:
			fmt.Fprintf(c.out, "(binary, %d bytes)\n", len(msg))
		case c.view != nil:
			if line, ok := c.view.render(msg); ok {
				fmt.Fprintln(c.out, wire.SafeText(line))
			}
		default:
			// What the server sends is shown, not obeyed: no escape
			// sequence reaches the terminal, and a message's later lines
			// are indented so none passes for a message of its own.
			fmt.Fprintln(c.out, wire.SafeText(string(msg)))
		}
	}
}

// close sends close 1000 and waits briefly for the server's close frame.
func (c *clientConn) close(stderr io.Writer) int {
	body := ws.NewCloseFrameBody(ws.StatusNormalClosure, "")
	if err := c.writeFrame(ws.NewCloseFrame(body), true); err != nil {
		fmt.Fprintf(stderr, "chatd client: close: %v\n", err)
		_ = c.conn.Close()
		<-c.done
		return 1
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(closeWait))
	err := <-c.done
	var closed wsutil.ClosedError
	if !errors.As(err, &closed) && !errors.Is(err, io.EOF) {
		// The server did not answer in time; our side is closed anyway.
		fmt.Fprintf(stderr, "chatd client: no close from the server: %v\n", err)
	}
	return 0
}

// ended reports a connection the server closed (0 for 1000 or 1001) or
// that broke (1).
func (c *clientConn) ended(err error, stderr io.Writer) int {
	var closed wsutil.ClosedError
	if errors.As(err, &closed) {
		fmt.Fprintf(stderr, "chatd client: closed by the server: %d %s\n", closed.Code, closed.Reason)
		if closed.Code == ws.StatusNormalClosure || closed.Code == ws.StatusGoingAway {
			return 0
		}
		return 1
	}
	fmt.Fprintf(stderr, "chatd client: connection lost: %v\n", err)
	return 1
}
