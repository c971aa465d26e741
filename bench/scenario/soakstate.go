package scenario

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/chatd/chatd/bench/wsconn"
)

// soak is one worker's share of a soak run: its users, their sessions,
// and the ledgers that judge every delivery while the run goes on.
//
// Private messages and rooms stay inside the worker: a user writes
// privately only to users of the same worker, and joins only this
// worker's rooms, so the worker sees both ends of everything it judges and
// can judge it as it happens (a deadline passing), not only at the end.
// The lobby is shared by every worker; each judges its own members.
//
// Concurrency: mu guards the fields below it and every soakUser field
// marked (mu). Readers (one goroutine per connection), lanes, login
// goroutines, the scheduler and the ticker take it for short sections and
// never do I/O under it. Writes go through lanes: lane k writes for the
// users with idx%lanes == k, in the order the scheduler prepared them, so
// one user's messages leave in the order of their sequence numbers.
type soak struct {
	w     *worker
	cfg   Config
	ctx   context.Context
	out   io.Writer // violations and the running status
	first int       // global index of users[0]
	lanes []chan func()
	stop  chan struct{} // closed when the run is over: lanes and timers end
	bg    sync.WaitGroup

	mu       sync.Mutex
	rng      *rand.Rand
	users    []*soakUser
	offline  []int32 // users logged out by churn, for offline_share
	rooms    []string
	roomNum  map[string]int32 // lobby is 0
	logs     map[string]*roomLog
	pm       map[pmKey]*pmRec // every private message written
	open     map[pmKey]*pmRec // written and neither received nor judged
	gaps     map[gapKey]time.Time
	start    time.Time // traffic start
	ending   bool      // no more churn; logged-out users log in at once
	stopped  bool      // no more logins
	nviol    int64
	examples []string
}

// soakLanes is the number of writer goroutines per worker.
const soakLanes = 32

// userState is where a soak user is in its life.
type userState int

const (
	stOffline    userState = iota // logged out (churn), or before the first login
	stConnecting                  // dialling and logging in
	stOnline                      // logged in, reader running
	stClosing                     // logging out: close frame sent, reader draining
)

// session is one connection of a user, from the dial to the end.
type session struct {
	start   time.Time // dial started
	login   time.Time // login_ok read
	end     time.Time // zero while open
	dropped bool      // ended without a closing handshake (ours or not)
}

// soakUser is one user of the population.
type soakUser struct {
	idx  int32
	name string

	state   userState         // (mu)
	c       *wsconn.Conn      // (mu) the current connection
	done    chan struct{}     // (mu) closed when c's reader has ended
	sess    []session         // (mu) every session, the last is current
	resume  string            // (mu) token of the current session
	tracks  map[string]*track // (mu) rooms joined or being joined, lobby included
	last    map[string]uint64 // (mu) highest seq read per room, across sessions
	want    []string          // (mu) rooms to be in besides the lobby
	nextRef int64             // (mu)
	refs    map[int64]pmKey   // (mu) private messages awaiting "sent"
	pmNext  map[int32]uint32  // (mu) next private seq per receiver
	pmHi    map[int32]uint32  // (mu) per sender: highest private seq read + 1
	roomSeq map[string]uint32 // (mu) next payload seq per room
	own     map[string]*owned // (mu) own room messages, to explain seq gaps
	ackID   uint64            // (mu) last offline message read, not acked yet
	offPos  int               // (mu) index in soak.offline, -1 when not there
	relogin *time.Timer       // (mu) pending login after a logout
}

// owned counts one user's live messages to one room: sent, seen by some
// member of this worker (so their seq is known), and used to explain a gap
// whose seq no member saw.
type owned struct{ sent, seen, used int }

func (u *soakUser) cur() *session { return &u.sess[len(u.sess)-1] }

func (u *soakUser) ownIn(room string) *owned {
	o := u.own[room]
	if o == nil {
		o = &owned{}
		u.own[room] = o
	}
	return o
}

// user returns the user with global index i, or nil if another worker has it.
func (s *soak) user(i int32) *soakUser {
	j := int(i) - s.first
	if j < 0 || j >= len(s.users) {
		return nil
	}
	return s.users[j]
}

// setState moves u to st, keeping the offline list. Locked: s.mu.
func (s *soak) setStateLocked(u *soakUser, st userState) {
	if st == stOffline && u.offPos < 0 {
		u.offPos = len(s.offline)
		s.offline = append(s.offline, u.idx)
	} else if st != stOffline && u.offPos >= 0 {
		last := s.offline[len(s.offline)-1]
		s.offline[u.offPos] = last
		s.user(last).offPos = u.offPos
		s.offline = s.offline[:len(s.offline)-1]
		u.offPos = -1
	}
	u.state = st
}

// violate counts one broken promise of kind and prints the first few.
// Locked: s.mu.
func (s *soak) violateLocked(kind, format string, args ...any) {
	now := time.Now()
	s.w.rec.Count(0, "v_"+kind, 1, now)
	s.w.live.errors.Add(1)
	s.nviol++
	if len(s.examples) < 20 {
		ex := fmt.Sprintf("%.0fs %s: %s", now.Sub(s.w.epoch).Seconds(), kind, fmt.Sprintf(format, args...))
		s.examples = append(s.examples, ex)
		fmt.Fprintf(s.out, "soak worker %d: VIOLATION %s\n", s.w.shard.Proc, ex)
	}
}

// count adds one to counter name, with a time series.
func (s *soak) count(name string, n int64) { s.w.rec.Count(0, name, n, time.Now()) }

// dispatch hands fn to u's lane; it returns false once the run is over.
func (s *soak) dispatch(u *soakUser, fn func()) bool {
	select {
	case s.lanes[int(u.idx)%len(s.lanes)] <- fn:
		return true
	case <-s.stop:
		return false
	}
}

// runLanes starts the writer goroutines; they end with s.stop.
func (s *soak) runLanes() {
	s.lanes = make([]chan func(), soakLanes)
	for i := range s.lanes {
		q := make(chan func(), 1024)
		s.lanes[i] = q
		s.bg.Go(func() {
			for {
				select {
				case fn := <-q:
					fn()
				case <-s.stop:
					return
				}
			}
		})
	}
}

// later runs fn after d on its own goroutine, unless the run is over by then.
func (s *soak) later(d time.Duration, fn func()) *time.Timer {
	return time.AfterFunc(d, func() { s.goLater(fn) })
}

// goLater runs fn on its own goroutine unless the run is over.
func (s *soak) goLater(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.bg.Go(fn)
	}
}
