package chat

import (
	"encoding/json"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/wire"
)

// The offline mailbox reaches a new session in pages, with flow control:
// a page is read (pageJob), written to the socket, and the next page is
// read only once the kernel has taken every byte of the previous one
// (Conn.OnFlushed). So a mailbox of any size reaches a slow reader without
// exceeding the write budget, and a login never causes a slow-consumer
// close by itself. Without acks, a page leaves the store only once it has
// been written (ackJob after OnFlushed reports written); with acks, only on
// the client's cumulative ack. Live deliveries that arrive meanwhile wait
// in the session (pending, bounded by chat.mailbox.live_buffer_bytes) and
// are written after the last page.

// drainRetryDelay is the wait before asking again for a page when the
// offline queue was full.
const drainRetryDelay = 100 * time.Millisecond

// pendingItem is a live delivery held while the mailbox drains.
type pendingItem struct {
	frame   []byte
	private *privateSend // set for a private message, which must be settled
	room    *room        // set for a room message: dropped if s leaves the room
}

// drainRetry asks for the page after after again.
type drainRetry struct{ after uint64 }

// pageLoaded writes one page of the mailbox and asks for the next once
// the socket has taken it.
func (s *session) pageLoaded(pg page) {
	if s.closed || !s.draining {
		return
	}
	if pg.err != nil {
		s.sendError("could not read your offline messages; they are kept for your next login", nil)
		s.endDrain()
		return
	}
	if len(pg.entries) == 0 {
		s.endDrain()
		return
	}
	for _, e := range pg.entries {
		if s.conn.SendFrame(s.mailFrame(e.Data)) != nil {
			return // closing: what was not written stays stored
		}
	}
	last := pg.entries[len(pg.entries)-1].ID
	n := uint64(len(pg.entries))
	s.conn.OnFlushed(func(written bool) {
		if !written {
			return // closed first: nothing leaves the store
		}
		s.svc.st.mailWritten.Add(n)
		s.mailWritten = last
		if !s.ackMode {
			// Queued before the next page on the same serial queue, so the
			// store never hands out what it has just removed.
			s.svc.offline.enqueue(s.name, ackJob{upTo: last, written: true})
		}
		s.nextPage(last)
	})
}

// nextPage queues the read of the page after after, retrying later if the
// queue is full.
func (s *session) nextPage(after uint64) {
	if s.svc.offline.enqueue(s.name, pageJob{s: s, after: after}) {
		return
	}
	time.AfterFunc(drainRetryDelay, func() { s.notify(drainRetry{after: after}) })
}

// endDrain ends the mailbox phase and writes the live deliveries held
// meanwhile, in order, unless login replays are still being written.
func (s *session) endDrain() {
	s.draining = false
	if s.mailAgain {
		s.mailAgain = false
		s.drainAgain()
		return
	}
	s.releaseHeld()
}

// releaseHeld writes the live deliveries held while the mailbox drained
// and the login replays were written, once both are done.
func (s *session) releaseHeld() {
	if s.holding() {
		return
	}
	held := s.pending
	s.pending, s.pendingBytes = nil, 0
	for _, it := range held {
		if it.private != nil {
			s.writePrivate(it.private)
		} else {
			s.conn.SendFrame(it.frame)
		}
	}
}

// hold keeps a live delivery until the mailbox has drained. Past
// chat.mailbox.live_buffer_bytes the session is closed as a slow consumer;
// the private messages it held are then settled as not written, so their
// senders store them.
func (s *session) hold(it pendingItem) {
	s.pendingBytes += len(it.frame)
	if s.pendingBytes > s.svc.cfg.Mailbox.LiveBufferBytes {
		s.leaving.Store(true)
		if it.private != nil {
			it.private.done(false)
		}
		s.conn.Close(server.CloseSlowConsumer, "slow consumer: too many live messages while the offline mailbox is delivered")
		return
	}
	s.pending = append(s.pending, it)
}

// dropPending settles every held private message as not written.
func (s *session) dropPending() {
	for _, it := range s.pending {
		if it.private != nil {
			it.private.done(false)
		}
	}
	s.pending, s.pendingBytes = nil, 0
}

// dropHeld drops the room messages of rm held while the mailbox drains:
// s left rm, and none of its messages may come after "left" (nor, after a
// rejoin, behind that join's replay).
func (s *session) dropHeld(rm *room) {
	kept := s.pending[:0]
	for _, it := range s.pending {
		if it.room == rm {
			s.pendingBytes -= len(it.frame)
			continue
		}
		kept = append(kept, it)
	}
	clear(s.pending[len(kept):])
	s.pending = kept
}

// mailFrame is a stored message (its JSON) as a frame for s's format.
func (s *session) mailFrame(data []byte) []byte {
	if s.format == formatText {
		var m wire.Message
		if err := json.Unmarshal(data, &m); err == nil {
			return textFrame(textLine(&m, s.name))
		}
	}
	return s.svc.frame(data)
}

// mailWaiting tells a session that a message was stored for its user
// after the session may have read the mailbox (cluster.go: the sender's
// node did not know of the login yet).
type mailWaiting struct{}

// drainAgain reads the mailbox once more (after the running drain, if
// one is: its last page may have been read before the store): what was
// stored late comes now, not at the next login, and live deliveries wait
// behind it as at login.
func (s *session) drainAgain() {
	if s.closed || !s.loggedIn || !s.svc.keepsMail {
		return
	}
	if s.draining {
		s.mailAgain = true
		return
	}
	s.draining = true
	after := uint64(0) // without acks what was written has left the store
	if s.ackMode {
		after = s.mailWritten
	}
	s.nextPage(after)
}
