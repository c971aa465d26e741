package chat

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server"
)

// CloseReplaced: the session was taken over by a login that resumed it
// (or, at the user's session limit, by a resumed session of the same user).
const CloseReplaced server.StatusCode = 4009

// Session resume. A login_ok carries a resume token for the session. A
// later login with the same name and that token is accepted without asking
// the backend again, even at the user's session limit: the session the
// token names is closed with CloseReplaced if it is still open (the usual
// case: a browser whose network dropped, whose old socket the server has
// not yet seen die), or else the user's oldest session if the limit is
// reached. The new session rejoins the rooms the old one was in.
//
// Tokens are not stored: a token is the session's connection id and the
// user's session limit, authenticated with HMAC-SHA256 under a key drawn at
// start, so guessing one means forging a 128-bit MAC, and an idle session
// costs nothing for it. A token is good while its session is open and for
// chat.resume.ttl after it closed, once: the rooms of closed sessions are
// kept that long, at most chat.resume.max_closed of them (the oldest go
// first). Tokens do not survive a restart.

// tokenBytes is a token's length before base64: id, session limit, MAC.
const tokenBytes = 8 + 2 + 16

// resumes issues and checks resume tokens, and keeps the rooms of recently
// closed sessions. mu guards closed and order.
type resumes struct {
	key  [32]byte
	ttl  time.Duration // 0: resume is off
	max  int
	macs sync.Pool // of keyed HMAC-SHA256 hashers: a login makes no garbage for it

	mu     sync.Mutex
	closed map[uint64]closedSession // by connection id
	order  []uint64                 // ids of closed, oldest first
	// claims holds the ids a resume is in progress for: a token is tried
	// by one login at a time, so two logins with it never both win.
	claims map[uint64]struct{}
}

// closedSession is what a closed session leaves for its resume.
type closedSession struct {
	name  string
	rooms []string
	until time.Time
}

func newResumes(ttl time.Duration, max int) *resumes {
	r := &resumes{ttl: ttl, max: max, closed: map[uint64]closedSession{}, claims: map[uint64]struct{}{}}
	_, _ = rand.Read(r.key[:]) // crypto/rand never fails on Linux
	r.macs.New = func() any { return hmac.New(sha256.New, r.key[:]) }
	return r
}

// enabled reports whether tokens are issued.
func (r *resumes) enabled() bool { return r.ttl > 0 }

// token returns the token of session id of user name, whose limit is max.
func (r *resumes) token(name string, id uint64, max int) string {
	var b [tokenBytes]byte
	binary.BigEndian.PutUint64(b[:8], id)
	binary.BigEndian.PutUint16(b[8:10], uint16(min(max, 0xffff)))
	copy(b[10:], r.mac(name, b[:10]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// parse checks a token for name and returns the session id and limit it
// carries.
func (r *resumes) parse(name, tok string) (id uint64, max int, ok bool) {
	if len(tok) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return 0, 0, false
	}
	var b [tokenBytes]byte
	// Strict: the last character's unused bits must be zero, so a token
	// has one spelling (a changed character is never the same token).
	if n, err := base64.RawURLEncoding.Strict().Decode(b[:], []byte(tok)); err != nil || n != tokenBytes {
		return 0, 0, false
	}
	if !hmac.Equal(b[10:], r.mac(name, b[:10])) {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(b[:8]), int(binary.BigEndian.Uint16(b[8:10])), true
}

func (r *resumes) mac(name string, body []byte) []byte {
	h := r.macs.Get().(hash.Hash)
	defer r.macs.Put(h)
	h.Reset()
	h.Write(body)
	io.WriteString(h, name)
	var sum [sha256.Size]byte
	return h.Sum(sum[:0])[:16]
}

// claim reserves id for one resume; false if another is in progress.
func (r *resumes) claim(id uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, busy := r.claims[id]; busy {
		return false
	}
	r.claims[id] = struct{}{}
	return true
}

// release ends the resume of id; used says it succeeded, and then the
// closed session's record, if it closed meanwhile, goes too: the token is
// spent.
func (r *resumes) release(id uint64, used bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.claims, id)
	if used {
		delete(r.closed, id)
	}
}

// closedAt records the rooms of session id of name, which just closed.
func (r *resumes) closedAt(id uint64, name string, rooms []string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(now)
	if len(r.order) >= r.max {
		r.dropOldestLocked()
	}
	r.closed[id] = closedSession{name: name, rooms: rooms, until: now.Add(r.ttl)}
	r.order = append(r.order, id)
}

// take removes and returns the record of closed session id of name, if it
// has not expired.
func (r *resumes) take(id uint64, name string, now time.Time) (rooms []string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, found := r.closed[id]
	if !found || c.name != name || now.After(c.until) {
		return nil, false
	}
	delete(r.closed, id) // its id stays in order until swept; a lookup misses it
	return c.rooms, true
}

// sweep drops expired records.
func (r *resumes) sweep(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(now)
}

func (r *resumes) sweepLocked(now time.Time) {
	for len(r.order) > 0 {
		c, found := r.closed[r.order[0]]
		if found && !now.After(c.until) {
			return
		}
		r.dropOldestLocked()
	}
}

func (r *resumes) dropOldestLocked() {
	delete(r.closed, r.order[0])
	r.order[0] = 0
	r.order = r.order[1:]
	if cap(r.order) > 64 && len(r.order) < cap(r.order)/4 {
		r.order = slices.Clone(r.order)
	}
}

// size returns the number of closed sessions kept (for tests).
func (r *resumes) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.closed)
}

// roomsOf returns the names of the rooms s is a member of, read from the
// registry (s's own list belongs to its actor). It costs a look at every
// room, which a resume (a login, throttled per address) can afford.
func (r *rooms) roomsOf(s *session) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for _, rm := range r.sorted {
		rm.mu.RLock()
		_, in := rm.index[s]
		rm.mu.RUnlock()
		if in {
			names = append(names, rm.name)
		}
	}
	return names
}

// tryResume logs s in with the resume token of attempt a, and reports
// whether it did (or refused for a reason that is not the token's). A token
// that is not good for the name, or has expired, is ignored: the login is
// then checked by the backend as if it had none.
func (s *session) tryResume(a attempt) bool {
	r := s.svc.resume
	if !r.enabled() || a.creds.Name == "" {
		return false
	}
	name, err := auth.CanonicalName(a.creds.Name)
	if err != nil {
		return false
	}
	id, max, ok := r.parse(name, a.resume)
	if !ok || !r.claim(id) {
		return false
	}
	resumed := false
	defer func() { r.release(id, resumed) }()
	now := time.Now()
	var first offlineJob
	if s.svc.keepsMail {
		first = pageJob{s: s}
	}
	s.name = name
	var (
		rooms    []string
		replaced *session
		refused  string
		found    bool
	)
	if old := s.svc.users.session(name, id); old != nil {
		// Open: take its place, if no other resume did meanwhile.
		rooms = s.svc.rooms.roomsOf(old)
		replaced, refused, found = s.svc.users.attachResumed(s, id, max, first, true)
	}
	if !found && s.svc.cluster != nil {
		// In a cluster only an open session on this node is resumed
		// here: it hands over its slot. A closed one has given its slot
		// back, and a new claim waits for NATS: that is an ordinary
		// login, on the auth pool, and the token's rooms are not restored.
		s.name = ""
		return false
	}
	if !found {
		// Closed: its record is taken once, atomically.
		if rooms, ok = r.take(id, name, now); !ok {
			s.name = ""
			return false
		}
		replaced, refused, _ = s.svc.users.attachResumed(s, id, max, first, false)
	}
	if refused != "" {
		if !found {
			r.closedAt(id, name, rooms, now) // not spent: the client may try again
		}
		s.name = ""
		s.refuse(a, refused, false)
		return true
	}
	resumed = true
	if replaced != nil {
		s.claim.Store(replaced.claim.Swap(nil)) // with a cluster: its slot is now s's
		replaced.conn.Kick(CloseReplaced, "replaced by a resumed session")
	}
	s.loggedInAs(a, max, rooms)
	return true
}
