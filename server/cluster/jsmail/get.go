package jsmail

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/server/mailbox"
)

// hdrEntry is the header holding a stored entry's fields other than Data,
// which is the message body: "<ID> <Stored, Unix nanoseconds> <Sender,
// strconv.QuoteToASCII>". One header, not three: the server rewrites a
// stored message's headers for every direct get, at a cost that grows
// with their number.
const hdrEntry = "Chatd-Entry"

// scanBatch is how many messages one direct-get request asks for when a
// method reads a whole mailbox (Put, Ack, LoadPage's search).
const scanBatch = 256

// record is one entry of a mailbox as a scan reads it.
type record struct {
	seq   uint64 // stream sequence: the entry's place in its mailbox
	msgID string // Nats-Msg-Id: which Store's Put wrote it (put.go)
	ok    bool   // the headers decoded; a record that did not is never loaded
	e     mailbox.Entry
}

// getRequest is the server's JSApiMsgGetRequest, the fields used here. The
// jetstream package (v1.56.0) asks for one message per request; a batch
// request answers with up to Batch messages, then an end-of-batch status.
type getRequest struct {
	Seq      uint64 `json:"seq,omitempty"`
	NextFor  string `json:"next_by_subj"`
	Batch    int    `json:"batch"`
	MaxBytes int    `json:"max_bytes,omitempty"`
}

// scan calls fn with the messages of subj from stream sequence from on,
// in stream order, until fn returns false or there are none left. It asks
// for batch messages at a time, and at most about maxBytes of them per
// request if maxBytes > 0 (the server sends at least one). It uses the
// stream's direct get, which any replica may answer (see the package
// documentation).
func (s *Store) scan(ctx context.Context, subj string, from uint64, batch, maxBytes int, fn func(record) bool) error {
	for {
		last, more, err := s.getBatch(ctx, getRequest{Seq: from, NextFor: subj, Batch: batch, MaxBytes: maxBytes}, fn)
		if err != nil || !more {
			return err
		}
		from = last + 1
	}
}

// getBatch sends one batch request and reads its answer. more is false
// when fn stopped the scan or nothing is left after last.
func (s *Store) getBatch(ctx context.Context, req getRequest, fn func(record) bool) (last uint64, more bool, err error) {
	body, err := json.Marshal(req)
	if err != nil {
		return 0, false, err
	}
	inbox := s.nc.NewInbox()
	// A channel just big enough for the batch and its end-of-batch status:
	// SubscribeSync's default channel (64k slots, half a MiB) per page read
	// was 94% of what a clustered login allocated.
	ch := make(chan *nats.Msg, req.Batch+2)
	sub, err := s.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return 0, false, err
	}
	defer sub.Unsubscribe()
	if err := s.nc.PublishRequest(s.api+"DIRECT.GET."+s.stream, inbox, body); err != nil {
		return 0, false, err
	}
	for {
		var m *nats.Msg
		select {
		case m = <-ch:
		case <-ctx.Done():
			return last, false, ctx.Err()
		}
		switch status := m.Header.Get("Status"); status {
		case "":
		case "204": // end of batch
			pending, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
			return last, pending > 0 && last > 0, nil
		case "404": // nothing at or after req.Seq
			return last, false, nil
		case "503":
			return last, false, nats.ErrNoResponders
		default:
			return last, false, fmt.Errorf("direct get: status %s %s", status, m.Header.Get("Description"))
		}
		r, err := decode(m)
		if err != nil {
			return last, false, err
		}
		last = r.seq
		if !fn(r) {
			return last, false, nil
		}
	}
}

// decode reads a direct-get answer. A message without the stream's
// sequence is an error; one without valid entry headers (not written by a
// Store) is returned with ok false.
func decode(m *nats.Msg) (record, error) {
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return record{}, fmt.Errorf("direct get: bad %s header: %w", jetstream.SequenceHeader, err)
	}
	r := record{seq: seq, msgID: m.Header.Get(jetstream.MsgIDHeader), e: mailbox.Entry{Data: m.Data}}
	if e, ok := parseEntry(m.Header.Get(hdrEntry)); ok {
		e.Data = m.Data
		r.e, r.ok = e, true
	}
	return r, nil
}

// encode is e as the message Put publishes on subj.
func encode(subj, msgID, stream string, e mailbox.Entry) *nats.Msg {
	m := nats.NewMsg(subj)
	m.Header.Set(jetstream.MsgIDHeader, msgID)
	m.Header.Set(jetstream.ExpectedStreamHeader, stream)
	v := strconv.AppendUint(nil, e.ID, 10)
	v = strconv.AppendInt(append(v, ' '), e.Stored.UnixNano(), 10)
	v = strconv.AppendQuoteToASCII(append(v, ' '), e.Sender)
	m.Header.Set(hdrEntry, string(v))
	m.Data = e.Data
	return m
}

// parseEntry reads a Chatd-Entry header; ok is false if it is malformed.
func parseEntry(v string) (e mailbox.Entry, ok bool) {
	id, rest, _ := strings.Cut(v, " ")
	ns, sender, _ := strings.Cut(rest, " ")
	id64, err1 := strconv.ParseUint(id, 10, 64)
	n, err2 := strconv.ParseInt(ns, 10, 64)
	sender, err3 := strconv.Unquote(sender)
	if err1 != nil || err2 != nil || err3 != nil {
		return mailbox.Entry{}, false
	}
	return mailbox.Entry{ID: id64, Stored: time.Unix(0, n), Sender: sender}, true
}
