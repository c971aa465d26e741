package chat

import "github.com/chatd/chatd/server"

// Large replies are paced by the client's reading. A join with since and a
// history request answer a few dozen bytes with up to
// chat.history.max_bytes; a client that asks for many of them at once
// could otherwise pile megabytes up past server.limits.write_budget_bytes
// (and be closed with 4008) or make the server write far faster than it
// reads. So while one such reply is not yet taken by the socket, the
// session's further requests wait, in order, and are handled once it is:
// one large reply in flight per connection, and a client's requests are
// still answered in the order sent. Live deliveries are not held: they
// follow the reply on the socket as before.

// maxWaiting bounds the requests that wait behind a large reply; past it
// a request gets an error instead (the client is sending far ahead of
// what it reads).
const maxWaiting = 64

// waitQueue is the requests waiting behind a large reply.
type waitQueue struct {
	msgs []waitingMessage
	why  string // the error past maxWaiting; "" for a large reply
}

type waitingMessage struct {
	op      server.MessageType
	payload []byte
}

// paced runs write, which writes a large reply, and holds the session's
// next requests until the socket has taken it.
func (s *session) paced(write func()) {
	write()
	s.waiting = &waitQueue{}
	s.conn.OnFlushed(func(written bool) {
		if !written {
			return // closed: the waiting requests go with it
		}
		s.resume()
	})
}

// wait queues a request that came while a large reply is being written.
func (s *session) wait(op server.MessageType, payload []byte) {
	if len(s.waiting.msgs) >= maxWaiting {
		if s.allow() { // a refused request still counts against the rate
			why := s.waiting.why
			if why == "" {
				why = "too many requests while a large reply is being written: read it first"
			}
			s.sendError(why, nil)
		}
		return
	}
	s.waiting.msgs = append(s.waiting.msgs, waitingMessage{op, payload})
}

// resume handles the waiting requests in order, until one of them starts
// another large reply; the rest then wait behind that one.
func (s *session) resume() {
	q := s.waiting
	s.waiting = nil
	for i, m := range q.msgs {
		if s.closed {
			return
		}
		s.chatMessage(m.op, m.payload)
		if s.waiting != nil {
			s.waiting.msgs = append(s.waiting.msgs, q.msgs[i+1:]...)
			return
		}
	}
}
