package chat

import (
	"sync"
	"time"
)

// users is the registry of online users and their sessions.
//
// mu guards online and lastSeen. Operations on the offline queue that must
// be ordered with the online/offline decision (store for an offline user,
// load at login) are enqueued while mu is held.
type users struct {
	mu       sync.Mutex
	online   map[string][]*session
	lastSeen map[string]int64 // unix ms of the last session's logout
	offline  *offlineQueue
}

func newUsers(q *offlineQueue) *users {
	return &users{online: map[string][]*session{}, lastSeen: map[string]int64{}, offline: q}
}

// attach adds s as a session of its user unless the user already has max
// sessions, and queues the load of the user's mailbox behind every store
// queued before it. It returns "" or the reason it refused.
func (u *users) attach(s *session, max int) (refused string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	cur := u.online[s.name]
	if len(cur) >= max {
		return reasonOnline
	}
	if !u.offline.enqueue(s.name, &loadJob{s: s}) {
		return reasonBusy
	}
	u.online[s.name] = append(cur, s)
	delete(u.lastSeen, s.name)
	return ""
}

// detach removes s. It reports whether s was the user's last session, and
// then records the user's last-seen time.
func (u *users) detach(s *session, now time.Time) (last bool, seen int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	cur := u.online[s.name]
	for i, x := range cur {
		if x == s {
			cur = append(cur[:i], cur[i+1:]...)
			break
		}
	}
	if len(cur) > 0 {
		u.online[s.name] = cur
		return false, 0
	}
	delete(u.online, s.name)
	seen = now.UnixMilli()
	u.lastSeen[s.name] = seen
	return true, seen
}

// seen reports whether name is online, or when it was last seen.
func (u *users) seen(name string) (online bool, lastSeen int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.online[name]) > 0 {
		return true, 0
	}
	return false, u.lastSeen[name]
}

// route decides where a private message to receiver goes. If receiver is
// online it appends the receiver's sessions and the sender's other
// sessions to the given slices. Otherwise it queues store (under the lock,
// ordered with logins) and reports stored; queued is false when the
// offline queue is full.
func (u *users) route(from *session, receiver string, store *storeJob, to, echo []*session) (toOut, echoOut []*session, stored, queued bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, s := range u.online[from.name] {
		if s != from {
			echo = append(echo, s)
		}
	}
	if rs := u.online[receiver]; len(rs) > 0 {
		return append(to, rs...), echo, false, true
	}
	return to, echo, true, u.offline.enqueue(receiver, store)
}
