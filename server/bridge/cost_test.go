package bridge_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/chatd/chatd/server/bridge"
	"github.com/chatd/chatd/server/wstest"
)

// TestCost measures what an idle bridged connection (per_connection,
// /bin/cat) costs chatd: goroutines, heap plus goroutine stacks, and fds.
// It checks the goroutine count (three per process, none per connection)
// and logs the rest; docs/BRIDGE.md quotes the numbers.
func TestCost(t *testing.T) {
	const n = 50
	cfg := testConfig(bridge.Program{Path: "/cat", Command: []string{"/bin/cat"}})
	e := start(t, cfg, nil, nil)
	warm := e.dial(t, "/cat") // the first connection warms pools and the poller
	warm.Send(t, wstest.Text([]byte("x")))
	expectText(t, warm, "x")

	// The same harness with /echo connections (no process) is the
	// baseline: the difference is what the bridge adds.
	type cost struct{ g, heap, stack, fds float64 }
	measure := func(path string, reply string) (cost, []*wstest.Conn) {
		snap := func() (int, runtime.MemStats, int) {
			runtime.GC()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return runtime.NumGoroutine(), ms, fds(t)
		}
		g0, m0, f0 := snap()
		cs := make([]*wstest.Conn, n)
		for i := range cs {
			cs[i] = e.dial(t, path)
			cs[i].Send(t, wstest.Text([]byte("x")))
			expectText(t, cs[i], reply)
		}
		time.Sleep(100 * time.Millisecond) // pool goroutines settle
		g1, m1, f1 := snap()
		return cost{float64(g1-g0) / n, float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / n,
			float64(int64(m1.StackInuse)-int64(m0.StackInuse)) / n, float64(f1-f0) / n}, cs
	}
	echo, ecs := measure("/echo", "x")
	bridged, cs := measure("/cat", "x")
	t.Logf("per /echo connection (test client included): %+v", echo)
	t.Logf("per bridged connection (test client included): %+v", bridged)
	t.Logf("the bridge adds per connection: %.2f goroutines, %.0f B heap, %.0f B stacks, %.2f fds",
		bridged.g-echo.g, bridged.heap-echo.heap, bridged.stack-echo.stack, bridged.fds-echo.fds)
	if d := bridged.g - echo.g; d > 4.2 {
		t.Errorf("%.2f goroutines per bridged connection, want 4 (stdout, stderr, stdin writer, exit watcher)", d)
	}
	for _, c := range ecs {
		c.Close()
	}
	for _, c := range cs {
		c.Close()
	}
}
