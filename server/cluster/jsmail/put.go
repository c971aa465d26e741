package jsmail

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/server/mailbox"
)

// usage is what Put needs to know about a mailbox, read by one scan.
type usage struct {
	last   uint64 // stream sequence of the mailbox's last entry; 0 if empty
	found  bool   // an entry carries this Put's Nats-Msg-Id: an earlier attempt stored it
	all    tally  // every entry
	head   tally  // the leading run of expired entries
	headTo uint64 // stream sequence of the last entry of that run
}

// tally counts entries: how many, their bytes, and the bytes of one sender.
type tally struct {
	count       int
	bytes       int64
	senderBytes int64
}

func (t *tally) add(e mailbox.Entry, sender string) {
	t.count++
	t.bytes += int64(len(e.Data))
	if e.Sender == sender {
		t.senderBytes += int64(len(e.Data))
	}
}

func (t tally) minus(o tally) tally {
	return tally{count: t.count - o.count, bytes: t.bytes - o.bytes, senderBytes: t.senderBytes - o.senderBytes}
}

// Put stores e in user's mailbox and returns nil only once JetStream has
// acknowledged the write: the entry is then stored as durably as the
// NATS server's sync setting and the stream's replicas make it (see the
// package documentation). A zero e.Stored is set to the Store's clock.
//
// Put reads the mailbox (one or a few batched direct gets), checks the
// bounds, and publishes the entry with two expectations the server checks
// atomically: the stream's name and the mailbox's last sequence as read.
// If another writer appended meanwhile, the publish is refused and Put
// reads again, so no bound is overshot by concurrent Puts, even from
// other nodes. JetStream itself enforces Config.MaxMessages (per subject)
// and Config.MaxTotalBytes (stream bytes). The errors are the bbolt
// store's, in its order: ErrFull for MaxMessages, then ErrSenderQuota,
// ErrFull for MaxBytes, ErrStoreFull. Before refusing, Put drops the
// mailbox's leading expired entries, as the bbolt store does.
//
// Put never replaces an entry. Entries carry a Nats-Msg-Id of this Store's
// nonce, the user and e.ID: a Put that finds its own in the mailbox (an
// earlier attempt whose ack was lost, or a caller's retry) stores nothing
// more and returns nil. The same ID put by another Store (node) is stored
// as a second entry: IDs from different nodes may collide.
func (s *Store) Put(user string, e mailbox.Entry) error {
	ctx, cancel, err := s.begin(user)
	if err != nil {
		return err
	}
	defer cancel()
	if len(e.Sender) > MaxUserBytes {
		return fmt.Errorf("%w: sender of %d bytes, want at most %d", mailbox.ErrBadUser, len(e.Sender), MaxUserBytes)
	}
	now := s.now()
	if e.Stored.IsZero() {
		e.Stored = now
	}
	subj := s.subject(user)
	msgID := token(user) + "." + strconv.FormatUint(e.ID, 10) + "." + s.nonce
	msg := encode(subj, msgID, s.stream, e)
	cutoff := now.Add(-s.cfg.MaxAge)
	size := int64(len(e.Data))
	for attempt := 1; ; attempt++ {
		u, err := s.usage(ctx, subj, msgID, e.Sender, cutoff)
		if err != nil {
			return wrap("put", err)
		}
		if u.found {
			break
		}
		bound := s.check(u.all, size)
		if bound != nil && u.head.count > 0 {
			// Expired entries do not count: drop them (a prefix of the
			// mailbox) and check again. Removing does not move the last
			// sequence, so the expectation below still holds.
			n, err := s.purge(ctx, subj, u.headTo+1)
			if err != nil {
				return wrap("put: drop expired", err)
			}
			s.noteExpired(user, n, "put")
			bound = s.check(u.all.minus(u.head), size)
		}
		if bound != nil {
			s.rejected.Add(1)
			return bound
		}
		msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(u.last, 10))
		_, err = s.js.PublishMsg(ctx, msg)
		if err == nil {
			break // a duplicate ack (an earlier attempt's write) is success too
		}
		switch code, desc := apiError(err); {
		case code == jetstream.JSErrCodeStreamWrongLastSequence, code == jetstream.JSErrCodeStreamWrongLastSequenceConstant:
			// Another writer appended since the read (or this Put's
			// earlier attempt did): read again after a short, random
			// pause, so that contending writers spread out.
			s.conflicts.Add(1)
			pause := time.Duration(rand.Int64N(int64(min(attempt, 50)) * int64(time.Millisecond)))
			select {
			case <-ctx.Done():
				return fmt.Errorf("jsmail: put: %d attempts lost a race with other writers to %q's mailbox: %w", attempt, user, ctx.Err())
			case <-time.After(pause):
			}
			continue
		case strings.Contains(desc, "maximum messages per subject exceeded"):
			s.rejected.Add(1)
			return mailbox.ErrFull
		case strings.Contains(desc, "maximum bytes exceeded"), code == insufficientResources:
			s.rejected.Add(1)
			return mailbox.ErrStoreFull
		}
		return wrap("put", err)
	}
	s.stored.Add(1)
	return nil
}

// insufficientResources is the server's JSInsufficientResourcesErr: the
// account or server has no storage left.
const insufficientResources jetstream.ErrorCode = 10023

// usage reads subj to see what a Put of sender's entry would add to.
func (s *Store) usage(ctx context.Context, subj, msgID, sender string, cutoff time.Time) (usage, error) {
	var u usage
	inHead := true
	err := s.scan(ctx, subj, 0, scanBatch, 0, func(r record) bool {
		if r.msgID == msgID {
			u.found = true
			return false
		}
		u.last = r.seq
		u.all.add(r.e, sender)
		if inHead = inHead && r.ok && r.e.Stored.Before(cutoff); inHead {
			u.head.add(r.e, sender)
			u.headTo = r.seq
		}
		return true
	})
	return u, err
}

// check returns the error for the first bound that storing size more
// bytes in a mailbox holding t would break, in the bbolt store's order.
// A bound on bytes is checked only if the entry has some.
func (s *Store) check(t tally, size int64) error {
	switch {
	case t.count >= s.cfg.MaxMessages:
		return mailbox.ErrFull
	case size > 0 && t.senderBytes+size > s.cfg.MaxBytesPerSender:
		return mailbox.ErrSenderQuota
	case size > 0 && t.bytes+size > s.cfg.MaxBytes:
		return mailbox.ErrFull
	}
	return nil
}

// apiError returns the JetStream error code and description in err, if
// any.
func apiError(err error) (jetstream.ErrorCode, string) {
	var je jetstream.JetStreamError
	if errors.As(err, &je) && je.APIError() != nil {
		return je.APIError().ErrorCode, je.APIError().Description
	}
	var ae *jetstream.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode, ae.Description
	}
	return 0, ""
}
