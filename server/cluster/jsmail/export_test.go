package jsmail

import (
	"context"
	"time"

	"github.com/chatd/chatd/server/mailbox"
)

// ShareNonce gives to the Nats-Msg-Id nonce of from, so that to's Puts look
// like retries of from's: the only way to make a Put meet its own earlier
// write without breaking a connection mid-request.
func ShareNonce(to, from *Store) { to.nonce = from.nonce }

// Fill appends es to user's mailbox without Put's reads and checks, for
// benchmarks that need a large mailbox quickly.
func Fill(s *Store, user string, es []mailbox.Entry) error {
	for _, e := range es {
		if e.Stored.IsZero() {
			e.Stored = s.now()
		}
		if _, err := s.js.PublishMsgAsync(encode(s.subject(user), "", s.stream, e)); err != nil {
			return err
		}
	}
	select {
	case <-s.js.PublishAsyncComplete():
		return nil
	case <-time.After(s.cfg.Timeout):
		return context.DeadlineExceeded
	}
}
