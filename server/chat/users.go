package chat

import (
	"slices"
	"sync"

	"github.com/chatd/chatd/auth"
)

// users is the registry of online users and their sessions.
//
// mu guards online, keys and reserved. Operations on the offline queue that must be
// ordered with the online/offline decision (store for an offline user,
// the first mailbox page at login) are enqueued while mu is held.
//
// Bounds: an entry exists only while its user has a session; last-seen
// times live in the durable store (Mailbox.SetSeen), not here.
type users struct {
	mu     sync.Mutex
	online map[string][]*session
	// keys maps auth.NameKey of an online name to the name, for names
	// whose key differs from the name itself (a lower-case ASCII name is
	// its own key and costs no entry): two online names never share a key.
	keys map[string]string
	// reserved holds the auth.NameKey of names no session may take (the
	// server API's sender, api.go).
	reserved map[string]bool
	offline  *offlineQueue
}

func newUsers(q *offlineQueue) *users {
	return &users{online: map[string][]*session{}, keys: map[string]string{}, reserved: map[string]bool{}, offline: q}
}

// attach adds s as a session of its user unless the user already has max
// sessions or a different user whose name looks the same is online, and
// queues first (the first mailbox page, if not nil) behind every store
// queued before it. It returns "" or the reason it refused.
func (u *users) attach(s *session, max int, first offlineJob) (refused string) {
	key := auth.NameKey(s.name)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.reserved[key] {
		return reasonReserved
	}
	if u.lookalikeLocked(s.name, key) {
		return reasonLookalike
	}
	cur := u.online[s.name]
	if len(cur) >= max {
		return reasonOnline
	}
	if first != nil && !u.offline.enqueue(s.name, first) {
		return reasonBusy
	}
	u.online[s.name] = append(cur, s)
	if key != s.name {
		u.keys[key] = s.name
	}
	return ""
}

// lookalikeLocked reports whether a different online name has key.
func (u *users) lookalikeLocked(name, key string) bool {
	if other, ok := u.keys[key]; ok && other != name {
		return true
	}
	return key != name && len(u.online[key]) > 0
}

// attachResumed adds s, a session resuming session id of its user, like
// attach, making room for it: the session id is replaced if it is still
// attached, else the oldest one if the user has max sessions. It returns
// the replaced session, now detached, for the caller to close. With
// mustReplace, it attaches s only by replacing session id, and reports
// found=false, doing nothing, when id is no longer attached (another
// resume with the same token took it first, or it closed): so a token
// resumes an open session once.
func (u *users) attachResumed(s *session, id uint64, max int, first offlineJob, mustReplace bool) (replaced *session, refused string, found bool) {
	key := auth.NameKey(s.name)
	u.mu.Lock()
	defer u.mu.Unlock()
	cur := u.online[s.name]
	i := slices.IndexFunc(cur, func(x *session) bool { return x.conn.ID() == id })
	if i < 0 && mustReplace {
		return nil, "", false
	}
	if u.reserved[key] {
		return nil, reasonReserved, true
	}
	if u.lookalikeLocked(s.name, key) {
		return nil, reasonLookalike, true
	}
	if i < 0 && len(cur) >= max && len(cur) > 0 {
		i = 0 // the oldest: attach appends
	}
	if first != nil && !u.offline.enqueue(s.name, first) {
		return nil, reasonBusy, true
	}
	if i >= 0 {
		replaced = cur[i]
		replaced.leaving.Store(true)
		replaced.replaced.Store(true)
		cur = slices.Delete(cur, i, i+1)
	}
	u.online[s.name] = append(cur, s)
	if key != s.name {
		u.keys[key] = s.name
	}
	return replaced, "", true
}

// session returns name's attached session whose connection is id, or nil.
func (u *users) session(name string, id uint64) *session {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, s := range u.online[name] {
		if s.conn.ID() == id {
			return s
		}
	}
	return nil
}

// detach removes s. It reports whether s was the user's last session; a
// session no longer attached (replaced by a resume) never is.
func (u *users) detach(s *session) (last bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	cur := u.online[s.name]
	i := slices.Index(cur, s)
	if i < 0 {
		return false
	}
	cur = slices.Delete(cur, i, i+1)
	if len(cur) > 0 {
		u.online[s.name] = cur
		return false
	}
	delete(u.online, s.name)
	if key := auth.NameKey(s.name); key != s.name {
		delete(u.keys, key)
	}
	return true
}

// isOnline reports whether name has a session.
func (u *users) isOnline(name string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.online[name]) > 0
}

// route decides where the private message p goes. It returns the
// receiver's sessions that are not leaving and, when echo is set, the
// sender's other sessions. With no such session the receiver is offline:
// if the service keeps mail, p's store job is queued under the lock
// (ordered with logins) and queued says whether the queue took it.
//
// remote says the receiver may be on other nodes (or the cluster cannot
// tell): then no sessions here is not offline.
func (u *users) route(p *privateSend, echo, remote bool) (to, echoTo []*session, offline, queued bool) {
	from, receiver := p.msg.Sender, p.msg.Receiver
	u.mu.Lock()
	defer u.mu.Unlock()
	if echo && receiver != from {
		for _, s := range u.online[from] {
			if s != p.from && !s.leaving.Load() {
				echoTo = append(echoTo, s)
			}
		}
	}
	for _, s := range u.online[receiver] {
		if !s.leaving.Load() {
			to = append(to, s)
		}
	}
	if len(to) > 0 || remote {
		return to, echoTo, false, true
	}
	if !p.svc.keepsMail {
		return nil, echoTo, true, false
	}
	return nil, echoTo, true, u.offline.enqueue(receiver, p.storeJob())
}

// reserve refuses name, and any name that looks the same, to every later
// login; it returns the sessions of such names already attached, for the
// caller to close.
func (u *users) reserve(name string) []*session {
	key := auth.NameKey(name)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.reserved[key] = true
	if n, ok := u.keys[key]; ok {
		return slices.Clone(u.online[n])
	}
	return slices.Clone(u.online[key])
}

// isReserved reports whether name, or a name that looks the same, is
// reserved.
func (u *users) isReserved(name string) bool {
	key := auth.NameKey(name)
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.reserved[key]
}

// page returns up to limit online names after after, sorted, and whether
// more follow. The names are copied under the lock (every online name:
// O(online)) and sorted outside it.
func (u *users) page(after string, limit int) (names []string, more bool) {
	u.mu.Lock()
	names = namesAfter(u.online, after, limit)
	u.mu.Unlock()
	return firstPage(names, limit)
}

// sessions returns name's attached sessions.
func (u *users) sessions(name string) []*session {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.online[name])
}

// live returns name's attached sessions that are not leaving.
func (u *users) live(name string) []*session {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []*session
	for _, s := range u.online[name] {
		if !s.leaving.Load() {
			out = append(out, s)
		}
	}
	return out
}
