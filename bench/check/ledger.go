package check

import "fmt"

// Stream is one sender's messages to one destination.
type Stream struct {
	From int32 `json:"from"` // sender's user index
	To   int32 `json:"to"`   // receiver's user index, or the room index when Room
	Room bool  `json:"room,omitempty"`
}

func (s Stream) String() string {
	if s.Room {
		return fmt.Sprintf("user %d to room %d", s.From, s.To)
	}
	return fmt.Sprintf("user %d to user %d", s.From, s.To)
}

// Outbox counts the messages one sender wrote, per stream. It is not safe
// for concurrent use: one sender goroutine owns it.
type Outbox struct {
	sent map[Stream]uint32
}

// Next returns the sequence number for the next message of s. Call Commit
// once the message was written.
func (o *Outbox) Next(s Stream) uint32 { return o.sent[s] }

// Commit records that the message Next returned was written.
func (o *Outbox) Commit(s Stream) {
	if o.sent == nil {
		o.sent = map[Stream]uint32{}
	}
	o.sent[s]++
}

// Sent returns the counts per stream.
func (o *Outbox) Sent() []SentCount {
	out := make([]SentCount, 0, len(o.sent))
	for s, n := range o.sent {
		out = append(out, SentCount{Stream: s, N: n})
	}
	return out
}

// SentCount is how many messages (sequence numbers 0..N-1) were written on
// a stream.
type SentCount struct {
	Stream
	N uint32 `json:"n"`
}

// Outcome classifies one delivery.
type Outcome int

// Delivery outcomes.
const (
	InOrder   Outcome = iota // first time seen, after every earlier one
	Reordered                // first time seen, but a later one was seen before
	Duplicate                // seen before
)

// Inbox tracks what one receiver read, per stream. It is not safe for
// concurrent use: the receiver's reader goroutine owns it.
type Inbox struct {
	Receiver int32
	tracks   map[Stream]*track
}

type track struct {
	seen     []uint64 // bit per sequence number
	count    uint32   // distinct sequence numbers seen
	next     uint32   // highest seen + 1
	dups     uint32
	reorders uint32
}

// NewInbox returns the inbox of receiver.
func NewInbox(receiver int32) *Inbox {
	return &Inbox{Receiver: receiver, tracks: map[Stream]*track{}}
}

// Deliver records that message seq of s arrived.
func (in *Inbox) Deliver(s Stream, seq uint32) Outcome {
	t := in.tracks[s]
	if t == nil {
		t = &track{}
		in.tracks[s] = t
	}
	w, b := seq/64, uint64(1)<<(seq%64)
	for uint32(len(t.seen)) <= w {
		t.seen = append(t.seen, 0)
	}
	switch {
	case t.seen[w]&b != 0:
		t.dups++
		return Duplicate
	case seq < t.next:
		t.seen[w] |= b
		t.count++
		t.reorders++
		return Reordered
	default:
		t.seen[w] |= b
		t.count++
		t.next = seq + 1
		return InOrder
	}
}

// Count is the number of distinct messages seen on s.
func (in *Inbox) Count(s Stream) uint32 {
	if t := in.tracks[s]; t != nil {
		return t.count
	}
	return 0
}

// Tracks returns the inbox's state per stream.
func (in *Inbox) Tracks() []Track {
	out := make([]Track, 0, len(in.tracks))
	for s, t := range in.tracks {
		out = append(out, Track{
			Receiver: in.Receiver, Stream: s,
			Count: t.count, Next: t.next, Dups: t.dups, Reorders: t.reorders,
		})
	}
	return out
}

// Track is what one receiver saw of one stream.
type Track struct {
	Receiver int32 `json:"r"`
	Stream
	Count    uint32 `json:"count"` // distinct sequence numbers
	Next     uint32 `json:"next"`  // highest sequence number + 1
	Dups     uint32 `json:"dups,omitempty"`
	Reorders uint32 `json:"reorders,omitempty"`
}
