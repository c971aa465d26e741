package check

import "fmt"

// Invariant is one checked property of a run.
type Invariant struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
}

// Invariants turns a verdict into the delivery invariants.
func (v Verdict) Invariants() []Invariant {
	return []Invariant{
		{
			Name:   "every message reached each intended receiver",
			Pass:   v.Missing == 0,
			Detail: fmt.Sprintf("%d of %d deliveries (%d messages on %d streams), %d missing", v.Delivered, v.Expected, v.Sent, v.Streams, v.Missing),
		},
		{
			Name:   "exactly once",
			Pass:   v.Dups == 0 && v.Phantom == 0,
			Detail: fmt.Sprintf("%d duplicates, %d never sent", v.Dups, v.Phantom),
		},
		{
			Name:   "per-sender order kept",
			Pass:   v.Reorders == 0,
			Detail: fmt.Sprintf("%d out of order", v.Reorders),
		},
		{
			Name:   "nothing reached a non-member",
			Pass:   v.NonMember == 0,
			Detail: fmt.Sprintf("%d deliveries to receivers not intended", v.NonMember),
		},
		{
			Name:   "payloads intact",
			Pass:   v.Corrupt == 0,
			Detail: fmt.Sprintf("%d corrupt", v.Corrupt),
		},
	}
}

// Count returns how many invariants passed and failed.
func Count(invs []Invariant) (passed, failed int) {
	for _, inv := range invs {
		if inv.Pass {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}

// Line is the closing line of a run: "N passed, M failed".
func Line(invs []Invariant) string {
	p, f := Count(invs)
	return fmt.Sprintf("%d passed, %d failed", p, f)
}
