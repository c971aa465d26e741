package scenario

import (
	"testing"
	"time"

	"github.com/chatd/chatd/bench/procfs"
)

func TestDroppedAll(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	// A message sent at 10 s and answered "delivered" at 11 s.
	from, to := at(10), at(11)
	cases := []struct {
		name string
		sess []session
		want bool
	}{
		{"online throughout", []session{{start: at(0), login: at(0)}}, false},
		{"dropped after it", []session{{start: at(0), login: at(0), end: at(12), dropped: true}}, true},
		{"logged out gracefully after it", []session{{start: at(0), login: at(0), end: at(12)}}, false},
		{"dropped before it, resumed after it: chatd may still have written to the old socket",
			[]session{{start: at(0), login: at(0), end: at(9), dropped: true}, {start: at(9), login: at(12)}}, true},
		{"dropped before it, resumed before it", []session{{start: at(0), login: at(0), end: at(8), dropped: true},
			{start: at(8), login: at(9)}}, false},
		{"dropped, not logged in again yet", []session{{start: at(0), login: at(0), end: at(5), dropped: true}}, true},
		{"logged out before it, back after the answer", []session{{start: at(0), login: at(0), end: at(5)}, {start: at(12), login: at(12)}}, false},
		{"no session at all", nil, false},
	}
	for _, tc := range cases {
		if got := droppedAll(tc.sess, from, to); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOnlineSince(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	d := 2 * time.Second
	stored := at(10)
	cases := []struct {
		name string
		sess []session
		now  time.Time
		want bool
	}{
		{"still logged out", []session{{start: at(0), login: at(0), end: at(9)}}, at(30), false},
		{"back, not long enough", []session{{start: at(0), login: at(0), end: at(9)}, {start: at(20), login: at(20)}}, at(21), false},
		{"back long enough", []session{{start: at(0), login: at(0), end: at(9)}, {start: at(20), login: at(20)}}, at(23), true},
		{"back but dropped at once", []session{{start: at(20), login: at(20), end: at(20.5), dropped: true}}, at(30), false},
		{"a session from before the store does not count", []session{{start: at(0), login: at(0)}}, at(30), false},
	}
	for _, tc := range cases {
		if got := onlineSince(tc.sess, stored, d, tc.now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSoakVerdictCatchesLeaks feeds the soak summary synthetic samples of
// a server that leaks memory, fds and goroutines: each resource's flatness
// invariant must fail, and a flat server's must pass.
func TestSoakVerdictCatchesLeaks(t *testing.T) {
	cfg := Config{Scenario: Soak, N: 100, URL: "ws://127.0.0.1:1/ws", Duration: Duration(10 * time.Minute),
		PIDs: PIDs{1}, Tag: "t"}
	cfg.Admin = "http://127.0.0.1:2"
	cfg = cfg.WithDefaults()
	run := func(leak float64) map[string]bool {
		epoch := time.Unix(1_700_000_000, 0)
		tl := Timeline{Epoch: epoch, End: epoch.Add(11 * time.Minute)}
		for i := 0; i <= 120; i++ {
			at := epoch.Add(time.Duration(i) * 5 * time.Second)
			mins := float64(i) * 5 / 60
			tl.Samples = append(tl.Samples, procfs.Sample{At: at, RSS: int64((200 + leak*6*mins) * (1 << 20)),
				FDs: 15000 + int(leak*30*mins), CPU: time.Duration(i) * time.Second})
			tl.Host = append(tl.Host, HostSample{At: at, Load1: 1, Goroutines: 30 + leak*20*mins})
		}
		tl.Phases = []PhaseAt{{Name: PhaseReady, At: epoch}, {Name: PhaseSent, At: epoch.Add(10 * time.Minute)}}
		r, err := Summarize(cfg, []Result{{}}, tl)
		if err != nil {
			t.Fatal(err)
		}
		pass := map[string]bool{}
		for _, inv := range r.Invariants {
			pass[inv.Name] = inv.Pass
		}
		return pass
	}
	flat, leaky := run(0), run(1)
	for _, name := range []string{"server RSS flat after warm-up", "server fds flat after warm-up", "server goroutines flat after warm-up"} {
		if p, ok := flat[name]; !ok || !p {
			t.Errorf("flat server: %q passed %v (present %v)", name, p, ok)
		}
		if leaky[name] {
			t.Errorf("leaking server: %q passed", name)
		}
	}
}
