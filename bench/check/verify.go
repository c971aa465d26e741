package check

import (
	"fmt"
	"slices"
)

// Plan says who should receive each stream. Implementations must be pure
// functions of the scenario's configuration, so every process agrees.
type Plan interface {
	// Receivers calls fn for every intended receiver of s.
	Receivers(s Stream, fn func(receiver int32))
	// Intended reports whether receiver should get s.
	Intended(s Stream, receiver int32) bool
}

// Partial is one worker's share of the ledger: what its senders wrote and
// what its receivers saw.
type Partial struct {
	Sent    []SentCount `json:"sent,omitempty"`
	Tracks  []Track     `json:"tracks,omitempty"`
	Corrupt int64       `json:"corrupt,omitempty"` // deliveries whose payload did not parse or did not match
	// CorruptExample is the first corrupt payload seen, cut short.
	CorruptExample string `json:"corrupt_example,omitempty"`
}

// Verdict is the outcome of Verify. Counts are in deliveries (a message to
// a room of M members is M-1 deliveries).
type Verdict struct {
	Streams   int   `json:"streams"`
	Sent      int64 `json:"sent"`      // messages written
	Expected  int64 `json:"expected"`  // deliveries intended
	Delivered int64 `json:"delivered"` // distinct intended deliveries seen
	Missing   int64 `json:"missing"`
	Dups      int64 `json:"duplicates"`
	Reorders  int64 `json:"reordered"`
	NonMember int64 `json:"non_member"` // deliveries to receivers not intended
	Phantom   int64 `json:"phantom"`    // sequence numbers never sent
	Corrupt   int64 `json:"corrupt"`
	// Examples describe the first few violations, for the report.
	Examples []string `json:"examples,omitempty"`
}

// maxExamples bounds Verdict.Examples.
const maxExamples = 8

func (v *Verdict) example(format string, args ...any) {
	if len(v.Examples) < maxExamples {
		v.Examples = append(v.Examples, fmt.Sprintf(format, args...))
	}
}

type trackKey struct {
	receiver int32
	stream   Stream
}

// Verify merges the workers' partials and checks them against plan.
func Verify(parts []Partial, plan Plan) Verdict {
	var v Verdict
	sent := map[Stream]uint32{}
	tracks := map[trackKey]Track{}
	for _, p := range parts {
		for _, s := range p.Sent {
			sent[s.Stream] += s.N
		}
		for _, t := range p.Tracks {
			k := trackKey{t.Receiver, t.Stream}
			if old, ok := tracks[k]; ok { // one receiver in two workers: should not happen
				t.Count += old.Count
				t.Next = max(t.Next, old.Next)
				t.Dups += old.Dups
				t.Reorders += old.Reorders
			}
			tracks[k] = t
		}
		v.Corrupt += p.Corrupt
		if p.CorruptExample != "" {
			v.example("corrupt payload: %s", p.CorruptExample)
		}
	}

	// Every intended receiver of every stream sent on.
	streams := make([]Stream, 0, len(sent))
	for s := range sent {
		streams = append(streams, s)
	}
	slices.SortFunc(streams, cmpStream) // deterministic examples
	v.Streams = len(streams)
	for _, s := range streams {
		n := sent[s]
		v.Sent += int64(n)
		plan.Receivers(s, func(r int32) {
			v.Expected += int64(n)
			t, ok := tracks[trackKey{r, s}]
			got := min(t.Count, n)
			v.Delivered += int64(got)
			if miss := n - got; miss > 0 {
				v.Missing += int64(miss)
				if ok {
					v.example("user %d got %d of %d messages from %v", r, t.Count, n, s)
				} else {
					v.example("user %d got none of %d messages from %v", r, n, s)
				}
			}
		})
	}

	// Every track: duplicates, order, membership, sequence numbers sent.
	keys := make([]trackKey, 0, len(tracks))
	for k := range tracks {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b trackKey) int {
		if c := cmpStream(a.stream, b.stream); c != 0 {
			return c
		}
		return int(a.receiver) - int(b.receiver)
	})
	for _, k := range keys {
		t := tracks[k]
		if !plan.Intended(t.Stream, t.Receiver) {
			v.NonMember += int64(t.Count + t.Dups)
			v.example("user %d is not a receiver of %v but got %d of its messages", t.Receiver, t.Stream, t.Count+t.Dups)
			continue
		}
		if t.Dups > 0 {
			v.Dups += int64(t.Dups)
			v.example("user %d got %d duplicates from %v", t.Receiver, t.Dups, t.Stream)
		}
		if t.Reorders > 0 {
			v.Reorders += int64(t.Reorders)
			v.example("user %d got %d messages out of order from %v", t.Receiver, t.Reorders, t.Stream)
		}
		if n := sent[t.Stream]; t.Next > n {
			v.Phantom += int64(t.Next - n)
			v.example("user %d got sequence number %d from %v, which sent %d", t.Receiver, t.Next-1, t.Stream, n)
		}
	}
	return v
}

func cmpStream(a, b Stream) int {
	switch {
	case a.Room != b.Room:
		if a.Room {
			return 1
		}
		return -1
	case a.To != b.To:
		return int(a.To) - int(b.To)
	default:
		return int(a.From) - int(b.From)
	}
}
