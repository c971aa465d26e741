package jsmail

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/server/mailbox"
)

// maxHints bounds the paging hints kept (one per user being paged).
const maxHints = 4096

// hint is where LoadPage last stopped in a mailbox: the ID it returned
// last and that entry's stream sequence.
type hint struct{ id, seq uint64 }

// LoadPage returns the unexpired entries of user's mailbox that come after
// the entry with ID after, in stored (stream) order, at most maxEntries of
// them and at most maxBytes of Data in all, except that it returns at
// least one entry if there is one, however large. A bound <= 0 means no
// bound. after 0 starts at the beginning; an empty page means the end.
//
// "After" is by place, not by ID (IDs from different nodes need not
// increase): the place of after is where this Store last returned it, if
// LoadPage returned it last for user (the usual case: paging through a
// mailbox, even once after has been acked away); else the first entry
// with ID after; else, if no entry has that ID, the page starts at the
// beginning. Expired entries are skipped (the stream drops them by
// itself).
func (s *Store) LoadPage(user string, after uint64, maxEntries, maxBytes int, now time.Time) ([]mailbox.Entry, error) {
	ctx, cancel, err := s.begin(user)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if after == math.MaxUint64 {
		return nil, nil
	}
	subj := s.subject(user)
	cutoff := now.Add(-s.cfg.MaxAge)
	page := pager{maxEntries: maxEntries, maxBytes: maxBytes, cutoff: cutoff}
	from, known := s.recall(user, after)
	if !known && after != 0 {
		// Look for after, keeping the first page in case it is not there.
		head, found := page, false
		err = s.scan(ctx, subj, 0, scanBatch, 0, func(r record) bool {
			if r.ok && r.e.ID == after {
				found, from = true, r.seq+1
				return false
			}
			head.add(r)
			return true
		})
		if err != nil {
			return nil, wrap("load", err)
		}
		if !found {
			return s.finish(user, head), nil
		}
	}
	for !page.done {
		n := scanBatch
		if maxEntries > 0 {
			n = maxEntries - len(page.out)
		}
		last, more, err := s.getBatch(ctx, getRequest{Seq: from, NextFor: subj, Batch: n, MaxBytes: max(maxBytes, 0)}, page.add)
		if err != nil {
			return nil, wrap("load", err)
		}
		if !more {
			break
		}
		from = last + 1
	}
	return s.finish(user, page), nil
}

// finish remembers where page ends and returns its entries.
func (s *Store) finish(user string, page pager) []mailbox.Entry {
	if len(page.out) > 0 {
		s.remember(user, hint{id: page.out[len(page.out)-1].ID, seq: page.lastSeq})
	}
	return page.out
}

// pager collects a page within its bounds.
type pager struct {
	maxEntries, maxBytes int
	cutoff               time.Time
	out                  []mailbox.Entry
	size                 int
	lastSeq              uint64 // stream sequence of out's last entry
	done                 bool   // full: the next entry would not fit
}

// add takes r if it belongs in the page, and reports whether it wants more.
func (p *pager) add(r record) bool {
	if p.done {
		return false
	}
	if !r.ok || r.e.Stored.Before(p.cutoff) {
		return true
	}
	if p.maxBytes > 0 && len(p.out) > 0 && p.size+len(r.e.Data) > p.maxBytes {
		p.done = true
		return false
	}
	p.out = append(p.out, r.e)
	p.size += len(r.e.Data)
	p.lastSeq = r.seq
	p.done = p.maxEntries > 0 && len(p.out) >= p.maxEntries
	return !p.done
}

// Ack removes entries from the head of user's mailbox, in stored order:
// if an entry has ID upTo, every entry up to and including the first such
// one (all of them were delivered before it, since pages follow stored
// order); if none has, the leading entries with ID < upTo, stopping at
// the first with a greater ID. It never removes an entry stored after the
// acknowledged one. It returns how many it removed; the removal is one
// purge, acknowledged by JetStream, when Ack returns.
func (s *Store) Ack(user string, upTo uint64) (int, error) {
	ctx, cancel, err := s.begin(user)
	if err != nil {
		return 0, err
	}
	defer cancel()
	subj := s.subject(user)
	var through, run uint64 // the last entry to remove; the end of the leading run below upTo
	inRun := true
	err = s.scan(ctx, subj, 0, scanBatch, 0, func(r record) bool {
		if r.ok && r.e.ID == upTo {
			through = r.seq
			return false
		}
		if inRun = inRun && (!r.ok || r.e.ID < upTo); inRun {
			run = r.seq
		}
		return true
	})
	if err != nil {
		return 0, wrap("ack", err)
	}
	if through == 0 {
		through = run
	}
	if through == 0 {
		return 0, nil
	}
	n, err := s.purge(ctx, subj, through+1)
	if err != nil {
		return 0, wrap("ack", err)
	}
	s.acked.Add(uint64(n))
	return n, nil
}

// purge removes every message of subj below stream sequence before and
// returns how many it removed. The stream's own Purge does not report the
// count, so the request is made here.
func (s *Store) purge(ctx context.Context, subj string, before uint64) (int, error) {
	req, _ := json.Marshal(struct {
		Filter string `json:"filter"`
		Seq    uint64 `json:"seq"`
	}{subj, before})
	m, err := s.nc.RequestWithContext(ctx, s.api+"STREAM.PURGE."+s.stream, req)
	if err != nil {
		return 0, err
	}
	var resp struct {
		Success bool `json:"success"`
		Purged  int  `json:"purged"`
		Error   *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	if resp.Error != nil || !resp.Success {
		return 0, fmt.Errorf("purge: %+v", resp.Error)
	}
	return resp.Purged, nil
}

// noteExpired logs entries dropped for age by a Store (those JetStream
// drops by itself are not seen here).
func (s *Store) noteExpired(user string, n int, during string) {
	if n == 0 {
		return
	}
	s.log.Info("expired messages dropped undelivered", zap.String("user", user),
		zap.Int("count", n), zap.Duration("max_age", s.cfg.MaxAge), zap.String("during", during))
}

// remember records where a page of user's mailbox ended.
func (s *Store) remember(user string, h hint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.hints[user]; !ok && len(s.hints) >= maxHints {
		for k := range s.hints { // drop an arbitrary one
			delete(s.hints, k)
			break
		}
	}
	s.hints[user] = h
}

// recall returns the stream sequence to read from after the entry with ID
// after, if LoadPage returned that entry last for user.
func (s *Store) recall(user string, after uint64) (from uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hints[user]
	if !ok || h.id != after || after == 0 {
		return 0, false
	}
	return h.seq + 1, true
}
