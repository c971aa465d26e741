package scenario

import "github.com/chatd/chatd/bench/check"

// PlanFor returns the membership rule of cfg's scenario: who must receive
// each stream, and so who must not.
func PlanFor(cfg Config) check.Plan {
	if cfg.Scenario == Room {
		return roomPlan{members: int32(cfg.N)}
	}
	return directPlan{}
}

// directPlan: a stream goes to its addressee only (private messages,
// echoes, the offline mailbox).
type directPlan struct{}

func (directPlan) Receivers(s check.Stream, fn func(int32)) {
	if !s.Room {
		fn(s.To)
	}
}

func (directPlan) Intended(s check.Stream, r int32) bool { return !s.Room && r == s.To }

// roomPlan: users 0 … members-1 are in room 0; a room message goes to every
// member but its sender. Users from members on are observers.
type roomPlan struct{ members int32 }

func (p roomPlan) Receivers(s check.Stream, fn func(int32)) {
	if !s.Room || s.To != 0 {
		return
	}
	for r := range p.members {
		if r != s.From {
			fn(r)
		}
	}
}

func (p roomPlan) Intended(s check.Stream, r int32) bool {
	return s.Room && s.To == 0 && r < p.members && r != s.From
}

// partner is the receiver of user i's private messages in partner mode.
func partner(i, n int) int { return (i + n/2) % n }

// isPublisher reports whether room member i publishes: publishers are
// spread evenly over the members, so over the worker processes too, and
// over the URLs (user i is on URL i mod urls in the room scenario):
// publisher k is the first member from k*stride on with index k mod urls,
// so publisher k is on URL k mod urls. With one URL, or fewer members per
// publisher than URLs, publisher k is member k*stride.
func isPublisher(i, members, publishers, urls int) bool {
	stride := members / publishers
	k := i / stride
	if k >= publishers {
		return false
	}
	want := k * stride
	if urls > 1 && stride >= urls {
		want += ((k-want)%urls + urls) % urls
	}
	return i == want
}
