package check

import (
	"reflect"
	"strings"
	"testing"
)

// direct: every stream goes to its addressee only.
type direct struct{}

func (direct) Receivers(s Stream, fn func(int32)) { fn(s.To) }
func (direct) Intended(s Stream, r int32) bool    { return r == s.To }

// room: users 0..members-1, every message to all but its sender.
type room struct{ members int32 }

func (p room) Receivers(s Stream, fn func(int32)) {
	for r := range p.members {
		if r != s.From {
			fn(r)
		}
	}
}
func (p room) Intended(s Stream, r int32) bool { return r < p.members && r != s.From }

// delivery is one line of a synthetic delivery log.
type delivery struct {
	to     int32
	stream Stream
	seq    uint32
}

// ledger builds the partial of a run from what was sent and a delivery log.
func ledger(sent map[Stream]uint32, log []delivery) Partial {
	var p Partial
	var out Outbox
	for s, n := range sent {
		for range n {
			out.Commit(s)
		}
	}
	p.Sent = out.Sent()
	inboxes := map[int32]*Inbox{}
	for _, d := range log {
		in := inboxes[d.to]
		if in == nil {
			in = NewInbox(d.to)
			inboxes[d.to] = in
		}
		in.Deliver(d.stream, d.seq)
	}
	for _, in := range inboxes {
		p.Tracks = append(p.Tracks, in.Tracks()...)
	}
	return p
}

func TestVerify(t *testing.T) {
	ab := Stream{From: 0, To: 1}
	ba := Stream{From: 1, To: 0}
	r0 := Stream{From: 0, To: 0, Room: true}
	inOrder := func(to int32, s Stream, n uint32) []delivery {
		var out []delivery
		for q := range n {
			out = append(out, delivery{to, s, q})
		}
		return out
	}
	cat := func(parts ...[]delivery) []delivery {
		var out []delivery
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	cases := []struct {
		name   string
		plan   Plan
		sent   map[Stream]uint32
		log    []delivery
		failed []string // names of the invariants that must fail (prefixes)
		want   Verdict  // only the counters checked below
	}{
		{"clean private", direct{}, map[Stream]uint32{ab: 5, ba: 3},
			cat(inOrder(1, ab, 5), inOrder(0, ba, 3)), nil,
			Verdict{Expected: 8, Delivered: 8}},
		{"loss", direct{}, map[Stream]uint32{ab: 5},
			[]delivery{{1, ab, 0}, {1, ab, 1}, {1, ab, 3}, {1, ab, 4}},
			[]string{"every message"}, Verdict{Expected: 5, Delivered: 4, Missing: 1}},
		{"receiver got nothing", direct{}, map[Stream]uint32{ab: 2}, nil,
			[]string{"every message"}, Verdict{Expected: 2, Missing: 2}},
		{"duplicate", direct{}, map[Stream]uint32{ab: 3},
			[]delivery{{1, ab, 0}, {1, ab, 1}, {1, ab, 1}, {1, ab, 2}},
			[]string{"exactly once"}, Verdict{Expected: 3, Delivered: 3, Dups: 1}},
		{"reorder", direct{}, map[Stream]uint32{ab: 3},
			[]delivery{{1, ab, 0}, {1, ab, 2}, {1, ab, 1}},
			[]string{"per-sender order"}, Verdict{Expected: 3, Delivered: 3, Reorders: 1}},
		{"non-member", direct{}, map[Stream]uint32{ab: 2},
			cat(inOrder(1, ab, 2), []delivery{{2, ab, 0}}),
			[]string{"nothing reached"}, Verdict{Expected: 2, Delivered: 2, NonMember: 1}},
		{"never sent", direct{}, map[Stream]uint32{ab: 2},
			[]delivery{{1, ab, 0}, {1, ab, 1}, {1, ab, 2}},
			[]string{"exactly once"}, Verdict{Expected: 2, Delivered: 2, Phantom: 1}},
		{"clean room", room{4}, map[Stream]uint32{r0: 3},
			cat(inOrder(1, r0, 3), inOrder(2, r0, 3), inOrder(3, r0, 3)), nil,
			Verdict{Expected: 9, Delivered: 9}},
		{"room: one member misses one, observer gets one", room{4}, map[Stream]uint32{r0: 3},
			cat(inOrder(1, r0, 3), inOrder(2, r0, 2), inOrder(3, r0, 3), []delivery{{7, r0, 1}}),
			[]string{"every message", "nothing reached"}, Verdict{Expected: 9, Delivered: 8, Missing: 1, NonMember: 1}},
		{"everything at once", direct{}, map[Stream]uint32{ab: 4},
			[]delivery{{1, ab, 1}, {1, ab, 0}, {1, ab, 1}, {0, ab, 3}},
			[]string{"every message", "exactly once", "per-sender order", "nothing reached"},
			Verdict{Expected: 4, Delivered: 2, Missing: 2, Dups: 1, Reorders: 1, NonMember: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Split the ledger over two "workers" to exercise the merge.
			half := len(tc.log) / 2
			parts := []Partial{ledger(tc.sent, tc.log[:half]), ledger(nil, tc.log[half:])}
			if !sameReceivers(tc.log[:half], tc.log[half:]) {
				parts = []Partial{ledger(tc.sent, tc.log)}
			}
			v := Verify(parts, tc.plan)
			got := Verdict{Expected: v.Expected, Delivered: v.Delivered, Missing: v.Missing, Dups: v.Dups,
				Reorders: v.Reorders, NonMember: v.NonMember, Phantom: v.Phantom}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("verdict %+v, want %+v", got, tc.want)
			}
			invs := v.Invariants()
			var failed []string
			for _, inv := range invs {
				if !inv.Pass {
					failed = append(failed, inv.Name)
				}
			}
			if len(failed) != len(tc.failed) {
				t.Fatalf("failed %q, want %q", failed, tc.failed)
			}
			for i, f := range failed {
				if !strings.HasPrefix(f, tc.failed[i]) {
					t.Errorf("failed %q, want %q", failed, tc.failed)
				}
			}
			if len(tc.failed) > 0 && len(v.Examples) == 0 {
				t.Error("a violation without an example")
			}
			p, f := Count(invs)
			if want := Line(invs); want != strings.TrimSpace(want) || p+f != len(invs) || f != len(tc.failed) {
				t.Errorf("Count %d/%d, Line %q", p, f, want)
			}
		})
	}
}

// sameReceivers reports whether the two halves share no receiver (then a
// split over two workers is realistic: a receiver lives in one worker).
func sameReceivers(a, b []delivery) bool {
	in := map[int32]bool{}
	for _, d := range a {
		in[d.to] = true
	}
	for _, d := range b {
		if in[d.to] {
			return false
		}
	}
	return true
}

func TestInboxOutcomes(t *testing.T) {
	in := NewInbox(1)
	s := Stream{From: 0, To: 1}
	steps := []struct {
		seq  uint32
		want Outcome
	}{{0, InOrder}, {2, InOrder}, {1, Reordered}, {2, Duplicate}, {200, InOrder}, {0, Duplicate}}
	for _, st := range steps {
		if got := in.Deliver(s, st.seq); got != st.want {
			t.Fatalf("Deliver(%d) = %v, want %v", st.seq, got, st.want)
		}
	}
	if in.Count(s) != 4 {
		t.Fatalf("count %d, want 4", in.Count(s))
	}
}

func TestLine(t *testing.T) {
	invs := []Invariant{{Pass: true}, {Pass: false}, {Pass: true}}
	if got := Line(invs); got != "2 passed, 1 failed" {
		t.Fatalf("Line = %q", got)
	}
}
