package compare

import (
	"context"
	"fmt"
	"time"

	"github.com/chatd/chatd/bench/scenario"
)

// Entry is one scenario of a suite and the servers it runs on.
type Entry struct {
	Config  scenario.Config
	Servers []string
}

// QuickSuite is the standard quick suite: every scenario, small, a few
// seconds each, on chatd and (where the baseline speaks it) the baseline.
// It takes one to two minutes.
func QuickSuite() []Entry {
	d := func(v time.Duration) scenario.Duration { return scenario.Duration(v) }
	both := []string{Chatd, Baseline}
	chatURL, echoURL := "ws://127.0.0.1:0/ws", "ws://127.0.0.1:0/echo"
	return []Entry{
		{scenario.Config{Scenario: scenario.Connect, URL: chatURL, N: 5000}, both},
		{scenario.Config{Scenario: scenario.Idle, URL: chatURL, N: 5000, Duration: d(5 * time.Second)}, both},
		{scenario.Config{Scenario: scenario.Echo, URL: echoURL, N: 100, Duration: d(5 * time.Second), Warmup: d(time.Second)}, both},
		{scenario.Config{Scenario: scenario.Private, URL: chatURL, N: 1000, Rate: 2000, Duration: d(5 * time.Second)}, both},
		{scenario.Config{Scenario: scenario.Room, URL: chatURL, N: 1000, Publishers: 2, Rate: 20, Duration: d(5 * time.Second)}, both},
		{scenario.Config{Scenario: scenario.Mailbox, URL: chatURL, N: 50, Senders: 5, Messages: 2000}, []string{Chatd}},
	}
}

// Suite runs entries one repetition each (opt.Reps overrides) and prints
// each comparison. It returns the invariants passed and failed in all.
func Suite(ctx context.Context, opt Options, entries []Entry, tag string) (passed, failed int, err error) {
	for i, e := range entries {
		cfg := e.Config
		cfg.Tag = fmt.Sprintf("%s%d", tag, i)
		cfg = cfg.WithDefaults()
		if err := cfg.Validate(); err != nil {
			return passed, failed, fmt.Errorf("suite entry %s: %w", cfg.Scenario, err)
		}
		o := opt
		o.Servers = e.Servers
		cmp, err := Compare(ctx, o, cfg)
		if cmp != nil {
			cmp.Print(opt.Out)
			fmt.Fprintln(opt.Out)
			p, f := cmp.Invariants()
			passed, failed = passed+p, failed+f
		}
		if err != nil {
			return passed, failed, err
		}
	}
	return passed, failed, nil
}
