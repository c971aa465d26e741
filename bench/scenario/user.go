package scenario

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/bench/check"
	"github.com/chatd/chatd/bench/pace"
	"github.com/chatd/chatd/bench/wsconn"
	"github.com/chatd/chatd/server/wire"
)

// user is one client connection, logged in or not.
//
// Concurrency: idx, name and c are set before any goroutine starts. The
// reader goroutine owns inbox; the sender goroutine owns out and buf; acks
// and done are shared.
type user struct {
	idx   int32
	name  string
	c     *wsconn.Conn
	inbox *check.Inbox
	out   check.Outbox
	buf   []byte
	nsent int           // messages written (sender goroutine; read after pump)
	acks  atomic.Int64  // "sent" replies received
	reply chan struct{} // echo closed loop: one per echo received
	done  chan struct{} // closed when the reader ends
}

// userName is the login name of user i: unique to the run by its tag.
func userName(tag string, i int) string { return "cb" + tag + "-" + strconv.Itoa(i) }

// loginError is a refused login; its text is the server's reply.
type loginError struct{ reply string }

func (e *loginError) Error() string { return "login refused: " + e.reply }

// open connects users idxs (global indexes), logs them in when cfg.Login,
// and passes each to ready (which typically starts its reader). With rate >
// 0 connections start on an open-loop schedule and their latency counts
// from the intended start; with rate 0 cfg.Dials at a time, each counted
// from its own start. Failed users are nil in the result.
func (w *worker) open(ctx context.Context, idxs []int, rate float64, hist string, ready func(*user)) []*user {
	users := make([]*user, len(idxs))
	one := func(j int, at time.Time) {
		i := idxs[j]
		u, err := w.dialUser(ctx, i)
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				w.error(i, cause(err))
				w.rec.Count(i, "failed", 1, now)
			}
			return
		}
		w.rec.Latency(i, hist, now.Sub(at), at, w.cfg.Scenario == Connect || w.cfg.Scenario == Idle)
		w.rec.Count(i, "opened", 1, now)
		w.live.opened.Add(1)
		w.live.conns.Add(1)
		users[j] = u
		if ready != nil {
			ready(u)
		}
	}
	var wg sync.WaitGroup
	if rate > 0 {
		sem := make(chan struct{}, max(w.cfg.Dials, 1024))
		sched := pace.Schedule{Start: time.Now(), Rate: rate}
		pace.Run(ctx, pace.RealClock{}, sched, time.Time{}, int64(len(idxs)), func(k int64, at time.Time) bool {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			wg.Go(func() {
				defer func() { <-sem }()
				one(int(k), at)
			})
			return true
		})
	} else {
		var next atomic.Int64
		for range min(w.cfg.Dials, len(idxs)) {
			wg.Go(func() {
				for ctx.Err() == nil {
					j := int(next.Add(1) - 1)
					if j >= len(idxs) {
						return
					}
					one(j, time.Now())
				}
			})
		}
	}
	wg.Wait()
	return users
}

// dialUser connects user i to its URL and, with cfg.Login, logs it in.
func (w *worker) dialUser(ctx context.Context, i int) (*user, error) {
	c, err := w.dialers[w.spread.node(i)].Dial(ctx, i)
	if err != nil {
		return nil, err
	}
	u := &user{idx: int32(i), name: userName(w.cfg.Tag, i), c: c, done: make(chan struct{})}
	if !*w.cfg.Login {
		return u, nil
	}
	if err := u.login(w.cfg.Timeout.D()); err != nil {
		c.Close()
		return nil, err
	}
	return u, nil
}

// login sends the plain-text name and expects "True".
func (u *user) login(timeout time.Duration) error {
	_ = u.c.SetReadDeadline(time.Now().Add(timeout))
	defer u.c.SetReadDeadline(time.Time{})
	if err := u.c.WriteText([]byte(u.name)); err != nil {
		return err
	}
	_, msg, err := u.c.Read()
	if err != nil {
		return err
	}
	if string(msg) != wire.PlainLoginOK {
		return &loginError{reply: string(msg[:min(len(msg), 80)])}
	}
	return nil
}

// join joins room and waits for the "joined" reply, skipping anything else.
func (u *user) join(room string, timeout time.Duration) error {
	_ = u.c.SetReadDeadline(time.Now().Add(timeout))
	defer u.c.SetReadDeadline(time.Time{})
	req := `{"type":"join","room":` + strconv.Quote(room) + `}`
	if err := u.c.WriteText([]byte(req)); err != nil {
		return err
	}
	for {
		_, msg, err := u.c.Read()
		if err != nil {
			return err
		}
		env, ok := envelopeOf(msg)
		switch {
		case ok && env.Type == wire.TypeJoined && env.Room == room:
			return nil
		case ok && env.Type == wire.TypeError:
			return &loginError{reply: "join: " + env.Error}
		}
	}
}

// cause names the cause of a failed open.
func cause(err error) string {
	var le *loginError
	if errors.As(err, &le) {
		return le.Error()
	}
	return wsconn.Classify(err)
}

// startReader runs u's reader on its own goroutine: handle gets every data
// message. When the connection ends before closeAll, the close code is
// counted and the connection is lost.
func (w *worker) startReader(u *user, handle func(u *user, msg []byte)) {
	w.readers.Go(func() {
		defer close(u.done)
		for {
			_, msg, err := u.c.Read()
			if err != nil {
				w.live.conns.Add(-1)
				if !w.closing.Load() {
					w.rec.Close(int(u.idx), wsconn.CloseCode(err))
					w.rec.Count(int(u.idx), "lost", 1, time.Now())
					w.error(int(u.idx), fmt.Sprintf("connection lost: %s", wsconn.Classify(err)))
				}
				return
			}
			handle(u, msg)
		}
	})
}
