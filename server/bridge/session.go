package bridge

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/chatd/chatd/server"
)

// window is how many stdout lines of a per-connection process may be in
// flight to its client (posted to the actor, or written but not yet taken
// by the kernel). A program that writes faster than its client reads
// blocks on its stdout pipe once the window is full.
const window = 32

// connSession is a connection to a per_connection program. Its methods
// run on the connection's actor.
type connSession struct {
	ep    *endpoint
	c     *server.Conn
	out   *connSink
	in    feeder
	login *login   // non-nil until the login succeeds
	env   []string // kept for the process while logging in
	p     *process // nil until started, and if it could not start
	// closed: Closed ran. A login verdict may still arrive (Notify runs
	// after Closed); it must not start a process.
	closed bool
}

// connSink takes a per-connection process's output to its connection.
// line and exited run on the stdout goroutine, room on the stdin writer.
type connSink struct {
	c        *server.Conn
	op       server.MessageType
	credit   chan struct{} // a token per line in flight
	gone     chan struct{} // closed by Session.Closed
	waitRoom atomic.Bool   // the session wants a roomMsg
	release  func(written bool)
}

// lineMsg is a line (or chunk) for the client.
type lineMsg []byte

// exitMsg: the process exited with this status.
type exitMsg string

func (ep *endpoint) openPerConnection(c *server.Conn) server.Session {
	op := server.Text
	if ep.prog.Binary {
		op = server.Binary
	}
	out := &connSink{c: c, op: op, credit: make(chan struct{}, window), gone: make(chan struct{})}
	out.release = func(bool) { <-out.credit }
	s := &connSession{ep: ep, c: c, out: out}
	s.in = feeder{c: c, wait: func() bool { return out.waitRoom.Swap(true) }}
	env := ep.cgiEnv(c)
	if ep.prog.Login {
		s.env = env
		s.login = newLogin(ep, c)
		return s
	}
	s.start(env)
	return s
}

// start runs the program for this connection, or closes it with the
// reason it cannot.
func (s *connSession) start(env []string) {
	p, err := s.ep.b.spawn(s.ep, env, make(chan []byte, s.ep.b.cfg.StdinQueue), s.out)
	switch {
	case errors.Is(err, errTooMany):
		s.c.Close(CloseTooManyProcesses, "too many processes")
	case err != nil:
		s.c.Logger().Error("program could not start", zap.Error(err))
		s.c.Close(CloseStartFailed, "program could not start")
	default:
		s.p = p
	}
}

// Message sends a message to the program's stdin: a text line with a
// newline added, or raw bytes in binary mode.
func (s *connSession) Message(op server.MessageType, payload []byte) {
	if s.login != nil {
		s.login.message(op, payload)
		return
	}
	if s.p == nil {
		return
	}
	if !s.ep.prog.Binary {
		payload = append(payload, '\n')
	}
	s.in.send(s.p.in, payload)
}

func (s *connSession) Notify(v any) {
	switch m := v.(type) {
	case lineMsg:
		s.c.Send(s.out.op, m)
		s.c.OnFlushed(s.out.release) // fn(false) at once if closed
	case exitMsg:
		s.c.Close(CloseProgramExited, statusReason(string(m)))
	case roomMsg:
		if s.p != nil {
			s.in.drain(s.p.in)
		}
	case loginResult:
		if s.login == nil || s.closed {
			return
		}
		if name, ok := s.login.result(m); ok {
			s.login = nil
			env := append(s.env, "CHATD_USER="+name)
			s.env = nil
			s.start(env)
		}
	}
}

// Closed stops the process: stdin is closed, then SIGTERM and SIGKILL
// follow (process.stop).
func (s *connSession) Closed(server.StatusCode, string) {
	s.closed = true
	if s.login != nil {
		s.login.stop()
	}
	close(s.out.gone)
	s.in.pending = nil
	if s.p != nil {
		s.p.stop()
	}
}

func (o *connSink) line(p *process, data []byte) bool {
	select {
	case o.credit <- struct{}{}:
	case <-o.gone:
		return false
	}
	if o.op == server.Text && !utf8.Valid(data) {
		data = []byte(strings.ToValidUTF8(string(data), "\uFFFD"))
	}
	return post(o.c, lineMsg(data), o.gone)
}

func (o *connSink) tooLong(p *process) {
	o.c.Kick(CloseLineTooLong, fmt.Sprintf("program wrote a line over %d bytes", p.b.cfg.MaxLineBytes))
}

func (o *connSink) exited(p *process, status string) { post(o.c, exitMsg(status), o.gone) }

func (o *connSink) room() {
	if o.waitRoom.Load() && o.waitRoom.CompareAndSwap(true, false) {
		post(o.c, roomMsg{}, o.gone)
	}
}
