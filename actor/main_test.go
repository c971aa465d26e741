package actor

import (
	"context"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitTimeout bounds every wait in the tests. It is generous because the
// race detector on a shared 2-core box is slow; tests never assert speed.
const waitTimeout = 20 * time.Second

// checkFor polls cond until it returns true or timeout passes, yielding the
// processor between polls (never sleeping for synchronisation).
func checkFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		runtime.Gosched()
	}
}

// recv waits for one value from ch, failing the test after waitTimeout.
func recv[T any](tb testing.TB, ch <-chan T) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		tb.Fatalf("timed out after %v waiting on channel", waitTimeout)
		panic("unreachable")
	}
}

// newTestSystem returns a System whose logs are observed, shut down (and
// checked to drain) when the test ends.
func newTestSystem(tb testing.TB, opts ...Option) (*System, *observer.ObservedLogs) {
	tb.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	sys := NewSystem(zap.New(core), opts...)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown at cleanup: %v", err)
		}
	})
	return sys, logs
}

// gate is a Receiver helper that blocks inside Receive until released, so
// tests can hold an actor busy while they queue messages behind it.
//
// Concurrency: safe for concurrent use (channels only); open once.
type gate struct {
	entered chan struct{} // receives one value each time Receive blocks
	release chan struct{} // closing it lets every blocked Receive return
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 1024), release: make(chan struct{})}
}

// block is called from Receive.
func (g *gate) block() {
	g.entered <- struct{}{}
	<-g.release
}

func (g *gate) open() { close(g.release) }
