package chat

import (
	"bytes"
	"container/list"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/auth/throttle"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/history"
	"github.com/chatd/chatd/server/wire"
)

// Room history. Every room message gets the room's next seq, is recorded in
// the room's history and is posted to the members in one critical section
// under the room's lock (room.publish), so each member receives a room's
// messages in seq order, and a join, which adds the member and takes its
// snapshot of the history under the same lock, sees exactly the messages
// before the first one posted to it: a join with since replays the
// snapshot, then live messages follow, with no gap and no duplicate.
//
// A history keeps the room's last seq and its newest messages, bounded by
// chat.history.messages, max_bytes (the JSON of the messages) and max_age;
// older ones are dropped from the front, so the kept seqs are consecutive.
// When a room's last member leaves, the room is deleted but its history is
// kept, idle, in the registry (rooms.idle), so a room emptied and joined
// again continues its seq and keeps its messages. Idle histories are
// bounded too: together with the rooms that have members they are at most
// chat.rooms.max_rooms (creating a room past that drops the idle history
// emptied longest ago), and one is dropped max_age after its room emptied
// (by then all its messages are too old), swept whenever a room is created
// or emptied. A dropped history loses its seq: the room starts again at 1.
//
// All histories together, of rooms with members and idle ones, keep at
// most chat.history.max_total_bytes of messages: the registry counts them
// in one atomic counter (historyConfig.total), updated under whichever
// lock guards the history that changed. A publish that takes the count
// past the cap evicts, after it released its room's lock (rooms.evict):
// first whole idle histories, the one emptied longest ago first, until
// the count is back under the cap; then, if the rooms with members alone
// are over it, the oldest messages of the rooms that keep the most bytes,
// all of them down to one level, so that together they keep at most 7/8
// of the cap (the margin makes the scan of every room rare: it frees at
// least cap/8 each time). A room with members therefore loses messages to
// the cap only when idle histories are gone, and a small room only after
// every bigger one is cut to its size.
//
// With chat.history.durable the histories are also written behind to a
// HistoryStore (package history), which gives them back at start as idle
// histories.

// HistoryStore keeps room histories on disk. Its methods are called under
// a room's lock and must not block on disk: they queue the change and the
// store writes it behind. *history.Store implements it.
type HistoryStore interface {
	// Rooms returns the histories the store held at open, each room's
	// messages oldest first. New calls it once.
	Rooms() []history.Room
	// Append records a room's message; the room keeps no message before
	// first (first is past e.Seq when it keeps none).
	Append(room string, e history.Entry, first uint64)
	// Trim records that the room keeps no message before first.
	Trim(room string, first uint64)
	// Drop forgets the room and its seq.
	Drop(room string)
}

var _ HistoryStore = (*history.Store)(nil)

// Option adjusts a code seam of the Service: the history store, the clock,
// the event sink, the login throttle.
type Option func(*options)

type options struct {
	store HistoryStore
	now   func() time.Time

	events   EventSink          // WithEvents (events.go)
	throttle *throttle.Throttle // WithThrottle (login.go)
	cluster  Cluster            // WithCluster (cluster.go)
}

// WithHistoryStore makes room history durable in st (chat.history.durable).
func WithHistoryStore(st HistoryStore) Option { return func(o *options) { o.store = st } }

// WithClock replaces time.Now for message times and history ages; for tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// historyConfig is the registry-wide history setting. Read-only, except
// the counter total points to.
type historyConfig struct {
	messages int   // 0: no history kept
	maxBytes int   // of JSON bodies, per room
	maxAge   int64 // milliseconds
	limit    int   // default and largest page of a history request
	maxTotal int64 // of JSON bodies, all histories together
	// total counts the bytes of JSON bodies kept by all histories, of
	// rooms with members and idle ones; changed with each history's bytes,
	// under the lock that guards that history.
	total *atomic.Int64
	store HistoryStore
	now   func() time.Time
}

func newHistoryConfig(cfg HistoryConfig, o options) historyConfig {
	if o.now == nil {
		o.now = time.Now
	}
	return historyConfig{
		messages: cfg.Messages,
		maxBytes: cfg.MaxBytes,
		maxAge:   cfg.MaxAge.Milliseconds(),
		limit:    cfg.Limit,
		maxTotal: int64(cfg.MaxTotalBytes),
		total:    new(atomic.Int64),
		store:    o.store,
		now:      o.now,
	}
}

// histEntry is one kept message.
type histEntry struct {
	seq   uint64
	ts    int64  // Unix ms, the message's ts
	frame []byte // the JSON text frame live members received; never changed
}

// body is the message's JSON object.
func (e histEntry) body() []byte { return framePayload(e.frame) }

// framePayload returns the payload of one unmasked server frame.
func framePayload(frame []byte) []byte {
	switch frame[1] & 0x7f {
	case 126:
		return frame[4:]
	case 127:
		return frame[10:]
	}
	return frame[2:]
}

// roomHistory is a room's seq and its kept messages. While its room has
// members it is guarded by the room's mu; while idle, by the registry's mu.
type roomHistory struct {
	name    string
	seq     uint64      // the room's last seq; 0 before its first message
	entries []histEntry // oldest first, consecutive seqs but across lost
	bytes   int         // len(body) of entries
	// lost is set when the durable store was not closed cleanly: the seqs
	// after lost[0] up to lost[1] may have been given to messages lost
	// with it (history.CrashGap); none of them is kept.
	lost [2]uint64

	// While idle: when the room emptied (Unix ms) and its place in
	// rooms.idleOrder.
	emptied int64
	elem    *list.Element
}

// first is the oldest seq kept, or seq+1 when none is.
func (h *roomHistory) first() uint64 {
	if len(h.entries) == 0 {
		return h.seq + 1
	}
	return h.entries[0].seq
}

// appendLocked records e, the room's new last message, and drops what the
// bounds no longer allow.
func (h *roomHistory) appendLocked(e histEntry, c *historyConfig, now int64) {
	h.seq = e.seq
	if c.messages == 0 {
		return
	}
	h.entries = append(h.entries, e)
	h.addBytes(len(e.body()), c)
	h.dropLocked(now-c.maxAge, c.maxBytes, c)
}

// addBytes counts n more bytes of messages in h and in the registry's
// total (n < 0: fewer).
func (h *roomHistory) addBytes(n int, c *historyConfig) {
	h.bytes += n
	c.total.Add(int64(n))
}

// dropLocked drops entries from the front while they are more than
// c.messages or maxBytes, or older than cutoff (Unix ms), and reports
// whether it dropped any.
func (h *roomHistory) dropLocked(cutoff int64, maxBytes int, c *historyConfig) bool {
	n, size := 0, 0
	for n < len(h.entries) {
		e := h.entries[n]
		if len(h.entries)-n <= c.messages && h.bytes-size <= maxBytes && e.ts >= cutoff {
			break
		}
		size += len(e.body())
		h.entries[n] = histEntry{} // let the frame go
		n++
	}
	if n == 0 {
		return false
	}
	h.addBytes(-size, c)
	// Slicing off the front lets append reallocate at most twice the kept
	// entries, copying only those: amortised O(1), bounded memory.
	h.entries = h.entries[n:]
	if len(h.entries) == 0 {
		h.entries = nil
	}
	return true
}

// expireLocked drops the messages older than max_age, telling the store.
func (h *roomHistory) expireLocked(c *historyConfig) {
	if h.dropLocked(c.now().UnixMilli()-c.maxAge, c.maxBytes, c) && c.store != nil {
		c.store.Trim(h.name, h.first())
	}
}

// snapshotLocked is what a join with since replays: the kept messages after
// since, whether they are all the messages after since (recovered), and
// how many of those are no longer kept (missed). A since past the room's
// seq (the seq was reset: history lost or not durable across a restart)
// replays nothing and is not recovered. Seqs a crash may have lost (lost)
// make it not recovered without counting in missed: how many of them were
// given out is not known.
func (h *roomHistory) snapshotLocked(since uint64) (replay []histEntry, recovered bool, missed uint64) {
	return h.snapshotUpToLocked(since, h.seq)
}

// snapshotUpToLocked is snapshotLocked as if the room's seq were upTo (at
// most h.seq): the messages after upTo are not replayed.
func (h *roomHistory) snapshotUpToLocked(since, upTo uint64) (replay []histEntry, recovered bool, missed uint64) {
	if since > upTo {
		return nil, false, 0
	}
	i := h.indexAfter(since)
	replay = slices.Clone(h.entries[i:h.indexAfter(upTo)])
	missed = upTo - since - uint64(len(replay))
	var unknown uint64 // seqs in (since, upTo] and in (lost[0], lost[1]]
	if lo, hi := max(since, h.lost[0]), min(upTo, h.lost[1]); hi > lo {
		unknown = hi - lo
	}
	missed -= unknown
	return replay, missed == 0 && unknown == 0, missed
}

// indexAfter is the index of the first entry with a seq after seq.
func (h *roomHistory) indexAfter(seq uint64) int {
	if seq == math.MaxUint64 {
		return len(h.entries) // none is after it (and seq+1 would be 0)
	}
	i, _ := slices.BinarySearchFunc(h.entries, seq+1, func(e histEntry, s uint64) int {
		switch {
		case e.seq < s:
			return -1
		case e.seq > s:
			return 1
		}
		return 0
	})
	return i
}

// pageLocked returns up to limit kept messages: the newest, the newest
// before before, or the oldest after after (at most one cursor is set),
// and whether kept messages remain beyond the page (older ones, or newer
// ones for after).
func (h *roomHistory) pageLocked(before, after *uint64, limit int) (page []histEntry, more bool) {
	switch {
	case after != nil:
		i := h.indexAfter(*after)
		end := min(i+limit, len(h.entries))
		return h.entries[i:end], end < len(h.entries)
	case before != nil:
		end := 0 // the index of the first entry at or after before
		if *before > 0 {
			end = h.indexAfter(*before - 1)
		}
		i := max(end-limit, 0)
		return h.entries[i:end], i > 0
	}
	i := max(len(h.entries)-limit, 0)
	return h.entries[i:], i > 0
}

// history answers a page of a room's history; only members may read it.
// A text-mode session gets it as lines (send).
func (s *session) history(req *wire.Request) {
	rm := s.room(req.Room)
	if rm == nil {
		s.sendError("not a member of room "+quote(req.Room)+": join it first", req.ID)
		return
	}
	before, err := parseCursor(req.Before, "before")
	if err == nil {
		var after *uint64
		after, err = parseCursor(req.After, "after")
		if err == nil && before != nil && after != nil {
			err = errors.New(`history takes "before" or "after", not both`)
		}
		if err == nil {
			s.paced(func() { s.sendHistory(rm, before, after, req) })
			return
		}
	}
	s.sendError(err.Error(), req.ID)
}

// sendHistory writes a page of rm's history. The page's entries are copied
// under the room's lock (dropping clears them in the kept slice); their
// frames never change, so the reply is built from them outside it.
func (s *session) sendHistory(rm *room, before, after *uint64, req *wire.Request) {
	limit := pageLimit(req.Limit, s.svc.rooms.hist.limit)
	var (
		page []histEntry
		more bool
	)
	rm.mu.Lock()
	if h := rm.hist; h != nil {
		h.expireLocked(&s.svc.rooms.hist)
		page, more = h.pageLocked(before, after, limit)
		page = slices.Clone(page)
	}
	rm.mu.Unlock()
	if s.format == formatText {
		reply := wire.History{Type: wire.TypeHistory, Room: rm.name, More: more, Ref: req.ID, Messages: make([]json.RawMessage, len(page))}
		for i, e := range page {
			reply.Messages[i] = e.body()
		}
		s.send(reply) // as lines (textReply)
		return
	}
	s.conn.SendFrame(historyFrame(rm.name, page, more, req.ID))
}

// historyFrame returns the JSON history reply as one text frame, exactly
// the bytes json.Marshal writes for the wire.History (TestHistoryFrame
// compares them): {"type":"history","room":R,"messages":[m1,...],
// "more":true,"ref":ID}. The messages are copied as they are kept: they
// are our own compact JSON (svc.encode wrote them), so they need none of
// the validating and compacting json.Marshal does to each json.RawMessage,
// which was most of a large reply's cost. The room and the ref, small,
// still go through json.Marshal, which escapes and compacts them as it
// would in the struct.
func historyFrame(room string, page []histEntry, more bool, ref json.RawMessage) []byte {
	roomJSON, _ := json.Marshal(room) // a string always marshals
	var refJSON []byte
	if len(ref) > 0 { // omitempty
		var err error
		if refJSON, err = json.Marshal(ref); err != nil {
			refJSON = nil // not from a parsed request: does not happen
		}
	}
	const (
		head     = `{"type":"history","room":`
		messages = `,"messages":[`
		moreTrue = `,"more":true`
		refKey   = `,"ref":`
	)
	n := len(head) + len(roomJSON) + len(messages) + len(`]`) + len(`}`)
	for i, e := range page {
		if i > 0 {
			n++ // ,
		}
		n += len(e.body())
	}
	if more {
		n += len(moreTrue)
	}
	if refJSON != nil {
		n += len(refKey) + len(refJSON)
	}
	hdr := 10 // a server frame's header: 2, 4 or 10 bytes by length
	switch {
	case n <= 125:
		hdr = 2
	case n <= 0xffff:
		hdr = 4
	}
	b := server.AppendTextHeader(make([]byte, 0, hdr+n), n)
	b = append(b, head...)
	b = append(b, roomJSON...)
	b = append(b, messages...)
	for i, e := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.body()...)
	}
	b = append(b, ']')
	if more {
		b = append(b, moreTrue...)
	}
	if refJSON != nil {
		b = append(b, refKey...)
		b = append(b, refJSON...)
	}
	return append(b, '}')
}

// parseCursor reads a history cursor, a seq: nil when the field is absent.
func parseCursor(c wire.Cursor, field string) (*uint64, error) {
	if c == "" {
		return nil, nil
	}
	n, err := strconv.ParseUint(string(c), 10, 64)
	if err != nil {
		return nil, errors.New(`"` + field + `" must be a seq, a whole number from 0, not ` + quote(string(c)))
	}
	return &n, nil
}

// parseSince reads a join's since, a seq as a JSON number: nil when the
// field is absent or null.
func parseSince(raw json.RawMessage) (*uint64, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil, nil
	}
	n, err := strconv.ParseUint(string(t), 10, 64)
	if err != nil {
		return nil, errors.New(`"since" must be the seq of the last message you have of the room, a whole number from 0, not ` + quote(string(t)))
	}
	return &n, nil
}

// replayFrame is a kept message as a session of format f, user self,
// receives it live.
func (svc *Service) replayFrame(e histEntry, f format, self string) []byte {
	if f != formatText {
		return e.frame
	}
	var m wire.Message
	if err := json.Unmarshal(e.body(), &m); err != nil {
		return e.frame // our own encoding: does not happen
	}
	return svc.messageFrame(&m, f, self)
}
