package chat

import (
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/server/metric"
)

// Counters for metrics. The service counts on atomics and histograms of
// package metric, and exports nothing itself: Stats takes a snapshot, which
// the admin listener turns into Prometheus metrics at scrape time. A chat
// message costs an atomic add for its kind, one per event loop it reaches
// for the messages sent, and one histogram observation per fan-out (room)
// or per receiving session (private): no lock and no map.
//
// Every label value is one of this file's constants: nothing comes from a
// client (no user or room names).

// Login outcomes (Stats.Logins' keys): "ok", or the refusal's reason.
const (
	loginOK = iota
	loginRejected
	loginInvalid
	loginOnline
	loginReserved
	loginBusy
	loginBackendError
	loginThrottledAddress
	loginThrottledName
	loginClusterUnavailable
	numLoginOutcomes
)

var loginOutcomeNames = [numLoginOutcomes]string{
	"ok", "rejected", "invalid", "already_online", "reserved", "busy", "backend_error",
	"throttled_address", "throttled_name", "cluster_unavailable",
}

// loginOutcome classifies a refusal's reason; counted says the backend
// refused the credentials on their merits.
func loginOutcome(reason string, counted bool) int {
	switch reason {
	case reasonOnline: // reasonLookalike is the same words
		return loginOnline
	case reasonReserved:
		return loginReserved
	case reasonBusy:
		return loginBusy
	case reasonBroken:
		return loginBackendError
	case reasonAddress:
		return loginThrottledAddress
	case reasonAccount:
		return loginThrottledName
	case reasonClusterDown:
		return loginClusterUnavailable
	}
	if counted {
		return loginRejected
	}
	return loginInvalid
}

// Message kinds (Stats.MessagesIn and MessagesOut keys).
const (
	kindPrivate = iota
	kindRoom
	kindLobby
	numKinds
)

var kindNames = [numKinds]string{"private", "room", "lobby"}

func roomKind(name string) int {
	if name == Lobby {
		return kindLobby
	}
	return kindRoom
}

// Histogram bounds: fan-out sizes in members, latencies in nanoseconds.
var (
	fanoutSizeBounds = []int64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}
	latencyBounds    = metric.DurationBounds(
		10*time.Microsecond, 25*time.Microsecond, 50*time.Microsecond, 100*time.Microsecond,
		250*time.Microsecond, 500*time.Microsecond, time.Millisecond, 2500*time.Microsecond,
		5*time.Millisecond, 10*time.Millisecond, 25*time.Millisecond, 50*time.Millisecond,
		100*time.Millisecond, 250*time.Millisecond, 500*time.Millisecond, time.Second)
)

// stats are the service's counters. Safe for concurrent use.
type stats struct {
	logins       [numLoginOutcomes]atomic.Uint64
	sessions     atomic.Int64 // logged-in sessions whose connection is open
	msgsIn       [numKinds]atomic.Uint64
	msgsOut      [numKinds]atomic.Uint64
	mailStored   atomic.Uint64 // offline messages the mailbox took
	mailWritten  atomic.Uint64 // stored messages written to a session's socket
	fanoutSize   *metric.Histogram
	fanoutTime   *metric.Histogram
	privateDelay *metric.Histogram
	roomDelay    *metric.Histogram
}

// init makes the histograms. A Service built without New (unit tests)
// has none, and its observations are dropped (a nil Histogram's).
func (st *stats) init() {
	st.fanoutSize = metric.NewHistogram(fanoutSizeBounds...)
	st.fanoutTime = metric.NewHistogram(latencyBounds...)
	st.privateDelay = metric.NewHistogram(latencyBounds...)
	st.roomDelay = metric.NewHistogram(latencyBounds...)
}

// Stats is a snapshot of the chat service's counters since New; Sessions,
// Users, MailQueueJobs and MailQueueBytes are current values.
type Stats struct {
	// Logins counts login attempts answered, by outcome: ok, rejected
	// (the backend refused the credentials), invalid (a malformed
	// login), already_online, reserved, busy, backend_error,
	// throttled_address, throttled_name, cluster_unavailable.
	Logins map[string]uint64
	// Sessions are the logged-in sessions open here; Users, the names
	// with at least one of them (on this node).
	Sessions, Users int
	// MessagesIn counts chat messages accepted from sessions, by kind
	// (private, room, lobby); MessagesOut, their copies handed to
	// receiving sessions (one per session).
	MessagesIn, MessagesOut map[string]uint64
	// MailStored counts private messages stored for offline users;
	// MailDelivered, stored messages written to a session's socket.
	MailStored, MailDelivered uint64
	// MailQueueJobs and MailQueueBytes are the mailbox operations waiting
	// on the offline queue, and the message bytes they hold.
	MailQueueJobs  int
	MailQueueBytes int64
	// FanoutSize is a room message's member count; FanoutTime, how long
	// its publish took (history, encoding, handing it to every event loop
	// with members).
	FanoutSize, FanoutTime metric.HistogramSnapshot
	// PrivateDelay is from a private message's arrival to its frame taken
	// by a receiver's socket, per receiving session; RoomDelay, from a
	// room message's publish to its hand-out to the members of one event
	// loop, per loop (the write follows at the end of that loop's wake).
	PrivateDelay, RoomDelay metric.HistogramSnapshot
}

// Stats returns a snapshot of the counters. Safe from any goroutine; it
// takes the users registry's lock once.
func (s *Service) Stats() Stats {
	st := Stats{
		Logins:         make(map[string]uint64, numLoginOutcomes),
		MessagesIn:     make(map[string]uint64, numKinds),
		MessagesOut:    make(map[string]uint64, numKinds),
		Sessions:       int(s.st.sessions.Load()),
		Users:          s.users.count(),
		MailStored:     s.offline.storedOK.Load(),
		MailDelivered:  s.st.mailWritten.Load(),
		MailQueueJobs:  s.offline.jobs(),
		MailQueueBytes: s.offline.bytes.Load(),
		FanoutSize:     s.st.fanoutSize.Snapshot(),
		FanoutTime:     s.st.fanoutTime.Snapshot(),
		PrivateDelay:   s.st.privateDelay.Snapshot(),
		RoomDelay:      s.st.roomDelay.Snapshot(),
	}
	for i, name := range loginOutcomeNames {
		st.Logins[name] = s.st.logins[i].Load()
	}
	for i, name := range kindNames {
		st.MessagesIn[name] = s.st.msgsIn[i].Load()
		st.MessagesOut[name] = s.st.msgsOut[i].Load()
	}
	return st
}

// count is the number of online names.
func (u *users) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.online)
}

// jobs is the number of operations queued on every shard.
func (q *offlineQueue) jobs() int {
	n := 0
	for _, ch := range q.shards {
		n += len(ch)
	}
	return n
}
