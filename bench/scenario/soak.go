package scenario

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/chatd/chatd/bench/pace"
)

// soak: the worker's users log in (at connect_rate), then for Duration
// they send private, room and lobby messages and log out and in, drop
// their connections and resume, and move between rooms, all on one
// open-loop schedule, while a ticker judges every promise whose deadline
// passed (soakprivate.go, soakroom.go). At the end every logged-out user
// logs in, the deliveries drain, and what is left is judged.
//
// Marks: send_end.
func (w *worker) soak(ctx context.Context) error {
	s := newSoak(ctx, w)
	s.runLanes()
	defer s.shutdown()
	s.rampUp(ctx)
	t0, err := w.coord.Sync(ctx, PhaseReady)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.start = t0
	s.mu.Unlock()
	w.measureFrom.Store(t0.UnixNano())
	stopTicker := s.runTicker()
	s.drive(ctx, t0, t0.Add(w.cfg.Duration.D()))
	w.mark("send_end", time.Now())
	if _, err := w.coord.Sync(ctx, PhaseSent); err != nil {
		stopTicker()
		return err
	}
	s.finish(ctx)
	stopTicker()
	_, err = w.coord.Sync(ctx, PhaseDrained)
	return err
}

func newSoak(ctx context.Context, w *worker) *soak {
	cfg := w.cfg
	s := &soak{
		w: w, cfg: cfg, ctx: ctx, out: os.Stderr, first: w.shard.First,
		stop:    make(chan struct{}),
		rng:     rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w.shard.Proc))),
		roomNum: map[string]int32{"lobby": 0},
		logs:    map[string]*roomLog{},
		pm:      map[pmKey]*pmRec{},
		open:    map[pmKey]*pmRec{},
		gaps:    map[gapKey]time.Time{},
	}
	n := w.shard.N
	nrooms := max(1, n*cfg.RoomsPerUser/cfg.RoomSize)
	for k := range nrooms {
		num := int32(w.shard.Proc*100000 + k + 1)
		name := "cb" + cfg.Tag + "-r" + strconv.Itoa(int(num))
		s.rooms = append(s.rooms, name)
		s.roomNum[name] = num
	}
	for i := range n {
		idx := w.shard.First + i
		u := &soakUser{
			idx: int32(idx), name: userName(cfg.Tag, idx), offPos: -1,
			last: map[string]uint64{}, refs: map[int64]pmKey{}, pmNext: map[int32]uint32{},
			pmHi: map[int32]uint32{}, roomSeq: map[string]uint32{}, own: map[string]*owned{},
		}
		for _, k := range s.rng.Perm(nrooms)[:min(cfg.RoomsPerUser, nrooms)] {
			u.want = append(u.want, s.rooms[k])
		}
		s.users = append(s.users, u)
	}
	return s
}

// share is this worker's part of a rate given for the whole run.
func (s *soak) share(rate float64) float64 {
	return rate * float64(s.w.shard.N) / float64(s.cfg.N)
}

// rampUp logs every user in at connect_rate and waits until all are online
// (or a bound passes; the stragglers keep trying).
func (s *soak) rampUp(ctx context.Context) {
	sched := pace.Schedule{Start: time.Now(), Rate: s.share(s.cfg.ConnectRate)}
	pace.Run(ctx, pace.RealClock{}, sched, time.Time{}, int64(len(s.users)), func(k int64, _ time.Time) bool {
		u := s.users[k]
		s.mu.Lock()
		s.setStateLocked(u, stConnecting)
		s.mu.Unlock()
		s.goLater(func() { s.login(u, false) })
		return ctx.Err() == nil
	})
	s.awaitOnline(ctx, 3*s.cfg.Timeout.D())
}

// awaitOnline waits until every user is online, or for at most d.
func (s *soak) awaitOnline(ctx context.Context, d time.Duration) {
	end := time.Now().Add(d)
	for ctx.Err() == nil && time.Now().Before(end) {
		if s.online() == len(s.users) {
			return
		}
		sleep(ctx, 50*time.Millisecond)
	}
}

func (s *soak) online() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, u := range s.users {
		if u.state == stOnline {
			n++
		}
	}
	return n
}

// soakKind is one kind of scheduled action.
type soakKind int

const (
	kPrivate soakKind = iota
	kRoom
	kLobby
	kLogout
	kDrop
	kMove
	nKinds
)

// drive runs the mixed open-loop schedule from start to end.
func (s *soak) drive(ctx context.Context, start, end time.Time) {
	c := s.cfg
	n := float64(s.w.shard.N)
	var weights [nKinds]float64
	weights[kPrivate] = s.share(c.Rate) * (1 - c.RoomShare)
	weights[kRoom] = s.share(c.Rate) * c.RoomShare
	weights[kLobby] = s.share(c.LobbyRate)
	weights[kLogout] = c.Churn * n / 60
	weights[kDrop] = c.Drops * n / 60
	weights[kMove] = c.Moves * n / 60
	total := 0.0
	for _, v := range weights {
		total += v
	}
	if total <= 0 {
		sleep(ctx, time.Until(end))
		return
	}
	sched := pace.Schedule{Start: start, Rate: total}
	pace.Run(ctx, pace.RealClock{}, sched, end, -1, func(_ int64, at time.Time) bool {
		s.mu.Lock()
		x := s.rng.Float64() * total
		kind := soakKind(0)
		for kind < nKinds-1 && x >= weights[kind] {
			x -= weights[kind]
			kind++
		}
		u, fn := s.actLocked(kind, at)
		s.mu.Unlock()
		if fn != nil {
			s.dispatch(u, fn)
		}
		return ctx.Err() == nil
	})
}

// actLocked prepares one action by a random online user and returns the
// user and the write to run on its lane (nil: nothing to do). Locked: s.mu.
func (s *soak) actLocked(kind soakKind, at time.Time) (*soakUser, func()) {
	var u *soakUser
	for range 16 {
		if v := s.users[s.rng.IntN(len(s.users))]; v.state == stOnline {
			u = v
			break
		}
	}
	if u == nil {
		s.count("skipped", 1)
		return nil, nil
	}
	switch kind {
	case kPrivate:
		return u, s.privateLocked(u, at)
	case kRoom:
		return u, s.roomMessageLocked(u, s.memberOfLocked(u), at)
	case kLobby:
		return u, s.roomMessageLocked(u, "lobby", at)
	case kLogout:
		return u, s.logoutLocked(u)
	case kDrop:
		return u, s.dropLocked(u)
	case kMove:
		return u, s.moveLocked(u)
	}
	return nil, nil
}

// memberOfLocked is a random room u is in (not the lobby), or "".
func (s *soak) memberOfLocked(u *soakUser) string {
	var in []string
	for room, t := range u.tracks {
		if room != "lobby" && t.known && !t.leaving {
			in = append(in, room)
		}
	}
	if len(in) == 0 {
		return ""
	}
	return in[s.rng.IntN(len(in))]
}

// status prints one line of running counts.
func (s *soak) status(now time.Time) {
	p := s.w.progress()
	fmt.Fprintf(s.out, "soak worker %d: %4.0fs online %d/%d, sent %d, delivered %d, violations %d\n",
		s.w.shard.Proc, now.Sub(s.w.epoch).Seconds(), p.Conns, len(s.users), p.Sent, p.Delivered, p.Errors)
}
