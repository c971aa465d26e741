package bridge

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/chatd/chatd/server"
)

// shared is a path in shared mode: one process at a time, supervised by
// run, and the connections it serves.
//
// Concurrency: mu guards members, byID and waiters; the stdin queue in is
// shared by the members' actors (senders) and the current process's
// writer; buf is used by the current process's stdout goroutine only (one
// at a time: the next process starts after the last one was reaped).
type shared struct {
	ep        *endpoint
	in        chan []byte
	quit      chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	members  map[*sharedSession]struct{}
	byID     map[string]map[*sharedSession]struct{}
	waiters  []*sharedSession
	nWaiting atomic.Int32

	buf []*sharedSession
}

// sharedSession is one connection to a shared program. Its methods run on
// the connection's actor, except waiting, guarded by shared.mu.
type sharedSession struct {
	sh      *shared
	c       *server.Conn
	id      string
	in      feeder
	login   *login
	joined  bool
	closed  bool
	waiting bool // in sh.waiters (sh.mu)
}

// frameMsg is an encoded text frame, shared by every recipient.
type frameMsg []byte

func newShared(ep *endpoint) *shared {
	return &shared{ep: ep, in: make(chan []byte, ep.b.cfg.StdinQueue), quit: make(chan struct{}),
		members: map[*sharedSession]struct{}{}, byID: map[string]map[*sharedSession]struct{}{}}
}

func (sh *shared) close() { sh.closeOnce.Do(func() { close(sh.quit) }) }

// run keeps the program running: it starts it, waits for it to exit, and
// starts it again after a backoff that doubles up to max_restart_backoff
// (and starts over after a long run), until close.
func (sh *shared) run() {
	b := sh.ep.b
	defer b.wg.Done()
	log := b.log.With(zap.String("path", sh.ep.prog.Path))
	env := append([]string{"GATEWAY_INTERFACE=CGI/1.1", "SERVER_SOFTWARE=chatd", "SCRIPT_NAME=" + sh.ep.prog.Path},
		sh.ep.passEnv...)
	backoff := b.cfg.RestartBackoff
	for {
		started := time.Now()
		p, err := b.spawn(sh.ep, env, sh.in, sh)
		if err != nil {
			log.Error("shared program could not start", zap.Error(err), zap.Duration("retry_in", backoff))
		} else {
			log.Info("shared program started", zap.Int("pid", p.pid))
			select {
			case <-p.done:
				log.Warn("shared program exited", zap.Int("pid", p.pid), zap.String("status", p.status),
					zap.Duration("restart_in", backoff))
			case <-sh.quit:
				p.stop()
				<-p.done
				return
			}
		}
		if time.Since(started) > b.cfg.MaxRestartBackoff {
			backoff = b.cfg.RestartBackoff
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-sh.quit:
			t.Stop()
			return
		}
		backoff = min(2*backoff, b.cfg.MaxRestartBackoff)
	}
}

func (sh *shared) open(c *server.Conn) server.Session {
	s := &sharedSession{sh: sh, c: c}
	s.in = feeder{c: c, wait: s.wait}
	if sh.ep.prog.Login {
		s.login = newLogin(sh.ep, c)
		return s
	}
	s.join(strconv.FormatUint(c.ID(), 10))
	return s
}

// join makes s a member under id (its connection number, or its user
// name with login).
func (s *sharedSession) join(id string) {
	sh := s.sh
	s.id = id
	sh.mu.Lock()
	sh.members[s] = struct{}{}
	set := sh.byID[id]
	if set == nil {
		set = map[*sharedSession]struct{}{}
		sh.byID[id] = set
	}
	set[s] = struct{}{}
	sh.mu.Unlock()
	s.joined = true
}

func (s *sharedSession) leave() {
	sh := s.sh
	sh.mu.Lock()
	delete(sh.members, s)
	if set := sh.byID[s.id]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(sh.byID, s.id)
		}
	}
	sh.mu.Unlock()
}

// Message sends each line of a message to the program as "ID line".
func (s *sharedSession) Message(op server.MessageType, payload []byte) {
	if s.login != nil {
		s.login.message(op, payload)
		return
	}
	if !s.joined {
		return
	}
	// A line break in a message starts another line, also prefixed, so
	// that no client can write a line that names another. A CR counts as
	// one too (CR LF as one): some readers end lines at a lone CR.
	payload = bytes.ReplaceAll(payload, []byte("\r\n"), []byte("\n"))
	payload = bytes.ReplaceAll(payload, []byte("\r"), []byte("\n"))
	n := bytes.Count(payload, []byte("\n")) + 1
	msg := make([]byte, 0, len(payload)+n*(len(s.id)+2))
	for line := range bytes.SplitSeq(payload, []byte("\n")) {
		msg = append(append(append(append(msg, s.id...), ' '), line...), '\n')
	}
	s.in.send(s.sh.in, msg)
}

func (s *sharedSession) Notify(v any) {
	switch m := v.(type) {
	case frameMsg:
		s.c.SendFrame(server.Frame(m))
	case roomMsg:
		if s.joined {
			s.in.drain(s.sh.in)
		}
	case loginResult:
		if s.login == nil || s.closed {
			return
		}
		if name, ok := s.login.result(m); ok {
			s.login = nil
			s.join(name)
		}
	}
}

func (s *sharedSession) Closed(server.StatusCode, string) {
	s.closed = true
	if s.login != nil {
		s.login.stop()
	}
	s.in.pending = nil
	if s.joined {
		s.leave()
	}
}

// wait registers s for a roomMsg (feeder.wait).
func (s *sharedSession) wait() bool {
	sh := s.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.waiting {
		return true
	}
	s.waiting = true
	sh.waiters = append(sh.waiters, s)
	sh.nWaiting.Add(1)
	return false
}

// line sends a line to every member, or with an "@ID " prefix to the
// members with that identifier only (without the prefix). The frame is
// encoded once. A member whose mailbox is full holds the program back for
// at most slowClientWait per line, then is dropped as a slow consumer
// (4008); one that does not read is dropped when its unsent output passes
// server.limits.write_budget_bytes.
func (sh *shared) line(p *process, data []byte) bool {
	var targets map[*sharedSession]struct{}
	direct := false
	if len(data) > 1 && data[0] == '@' {
		if id, rest, ok := bytes.Cut(data[1:], []byte(" ")); ok {
			direct = true
			data = rest
			sh.mu.Lock()
			targets = sh.byID[string(id)]
			sh.buf = sh.buf[:0]
			for m := range targets {
				sh.buf = append(sh.buf, m)
			}
			sh.mu.Unlock()
		}
	}
	if !direct {
		sh.mu.Lock()
		sh.buf = sh.buf[:0]
		for m := range sh.members {
			sh.buf = append(sh.buf, m)
		}
		sh.mu.Unlock()
	}
	if len(sh.buf) == 0 {
		return true
	}
	if !utf8.Valid(data) {
		data = []byte(strings.ToValidUTF8(string(data), "\uFFFD"))
	}
	frame := frameMsg(server.AppendTextFrame(nil, data))
	var deadline time.Time
	for i, m := range sh.buf {
		if err := m.c.Notify(frame); errors.Is(err, server.ErrQueueFull) {
			// A burst: the program waits for this client, up to
			// slowClientWait for the whole line.
			if deadline.IsZero() {
				deadline = time.Now().Add(slowClientWait)
			}
			if _, timedOut := postUntil(m.c, frame, sh.quit, deadline); timedOut {
				m.c.Kick(server.CloseSlowConsumer, "slow consumer: program output queued over the mailbox")
			}
		}
		sh.buf[i] = nil
	}
	return true
}

// slowClientWait is how long a shared program's line may wait for
// clients whose mailboxes are full; a client still full then is dropped
// with 4008.
const slowClientWait = time.Second

// tooLong: a shared program that writes a line over the limit is
// restarted; its clients stay.
func (sh *shared) tooLong(p *process) {
	sh.ep.b.log.Warn("shared program wrote a line over bridge.max_line_bytes: restarting it",
		zap.String("path", sh.ep.prog.Path), zap.Int("pid", p.pid))
}

func (sh *shared) exited(*process, string) {}

// room wakes the members waiting for room on the stdin queue.
func (sh *shared) room() {
	if sh.nWaiting.Load() == 0 {
		return
	}
	sh.mu.Lock()
	ws := sh.waiters
	sh.waiters = nil
	sh.nWaiting.Store(0)
	for _, s := range ws {
		s.waiting = false
	}
	sh.mu.Unlock()
	for _, s := range ws {
		post(s.c, roomMsg{}, sh.quit)
	}
}
