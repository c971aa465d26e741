package evloop

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newLoop(t *testing.T, log *zap.Logger) *Loop {
	t.Helper()
	if log == nil {
		log = zaptest.NewLogger(t)
	}
	l, err := New(log, 4096)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestInboxManyProducersNoLostWakeup posts from many goroutines at once;
// every task runs, and each producer's tasks run in the order posted.
func TestInboxManyProducersNoLostWakeup(t *testing.T) {
	l := newLoop(t, nil)
	const producers, each = 16, 20000
	var ran atomic.Int64
	last := make([]int, producers) // loop only
	var bad atomic.Int64
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= each; i++ {
				l.Post(func() {
					if last[p] != i-1 {
						bad.Add(1)
					}
					last[p] = i
					ran.Add(1)
				})
				if i%1000 == 0 {
					time.Sleep(time.Microsecond) // let the loop go idle between bursts
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, "every posted task to run", func() bool { return ran.Load() == producers*each })
	if bad.Load() != 0 {
		t.Fatalf("%d tasks ran out of their producer's order", bad.Load())
	}
	if s := l.Stats(); s.Wakeups == 0 || s.Wakeups > producers*each {
		t.Fatalf("wake-ups %d: want at least one and coalesced below one per post", s.Wakeups)
	}
}

// TestPostFromTaskRunsWithoutEventfd: a task posted by the loop itself,
// inside a wake, runs in that wake (or the next one) without being lost.
func TestPostFromTaskRuns(t *testing.T) {
	l := newLoop(t, nil)
	var done atomic.Int32
	var chain func(n int)
	chain = func(n int) {
		if n == 0 {
			done.Store(1)
			return
		}
		l.Post(func() { chain(n - 1) })
	}
	l.Post(func() { chain(3 * taskBudget) }) // more than one wake's budget
	waitFor(t, "a chain of self-posted tasks to finish", func() bool { return done.Load() == 1 })
}

type countFlusher struct{ n atomic.Int32 }

func (f *countFlusher) Flush() { f.n.Add(1) }

// TestDirtyFlushedOncePerWake: many tasks of one wake marking the same
// Flusher (the caller keeps the flag) flush it once, after the tasks.
func TestDirtyFlushedOncePerWake(t *testing.T) {
	l := newLoop(t, nil)
	f := &countFlusher{}
	var marked bool // loop only
	var ranAll atomic.Bool
	gate := make(chan struct{})
	l.Post(func() { <-gate }) // hold the loop so the next tasks share a wake
	for range 100 {
		l.Post(func() {
			if !marked {
				marked = true
				l.Dirty(f)
			}
			if f.n.Load() != 0 {
				t.Error("flushed before the wake's tasks had run")
			}
		})
	}
	l.Post(func() { ranAll.Store(true) })
	close(gate)
	waitFor(t, "the flush", func() bool { return f.n.Load() > 0 })
	if !ranAll.Load() || f.n.Load() != 1 {
		t.Fatalf("flushed %d times, want once after all the tasks", f.n.Load())
	}
}

// TestPanicInTaskKeepsLoop: a panicking task is logged and the loop goes on.
func TestPanicInTaskKeepsLoop(t *testing.T) {
	l := newLoop(t, zap.NewNop())
	var after atomic.Bool
	l.Post(func() { panic("boom") })
	l.Post(func() { after.Store(true) })
	waitFor(t, "the task after the panic", after.Load)
}

// reader reads at most per bytes per wake, so a socket with more input is
// served over several wakes (level-triggered).
type reader struct {
	l    *Loop
	fd   int
	per  int
	got  atomic.Int64
	eof  atomic.Bool
	wake atomic.Int64
}

func (r *reader) OnEvents(ev Events) {
	r.wake.Add(1)
	n, err := unix.Read(r.fd, r.l.Buffer()[:r.per])
	switch {
	case err == unix.EAGAIN:
	case err != nil || n == 0:
		if !r.eof.Swap(true) {
			_ = r.l.Mod(r.fd, 0) // nothing more to read
		}
	default:
		r.got.Add(int64(n))
	}
}

func socketPair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fds[0], fds[1]
}

// TestLevelTriggeredReadsTheLastBytes: input left after a wake's budget is
// reported again; the last bytes of a burst, and then EOF, are read.
func TestLevelTriggeredReadsTheLastBytes(t *testing.T) {
	l := newLoop(t, nil)
	a, b := socketPair(t)
	defer unix.Close(b)
	r := &reader{l: l, fd: a, per: 7}
	if err := l.Add(a, Read, r); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Del(a); unix.Close(a) }()
	const total = 10_001
	if n, err := unix.Write(b, make([]byte, total)); err != nil || n != total {
		t.Fatal(n, err)
	}
	unix.Close(b)
	b = -1
	waitFor(t, "every byte and EOF", func() bool { return r.got.Load() == total && r.eof.Load() })
	w := r.wake.Load()
	time.Sleep(20 * time.Millisecond) // with no interest, a hang-up is reported at most once more
	if extra := r.wake.Load() - w; extra > 1 {
		t.Fatalf("%d wakes after interest was dropped: the hang-up is spinning the loop", extra)
	}
}

// TestBusySocketDoesNotStarveOthers: a socket that always has input does
// not keep the loop from another socket's input.
func TestBusySocketDoesNotStarveOthers(t *testing.T) {
	l := newLoop(t, nil)
	busyA, busyB := socketPair(t)
	quietA, quietB := socketPair(t)
	defer func() {
		for _, fd := range []int{busyA, busyB, quietA, quietB} {
			_ = l.Del(fd)
			unix.Close(fd)
		}
	}()
	busy := &reader{l: l, fd: busyA, per: 1}
	quiet := &reader{l: l, fd: quietA, per: 64}
	if err := l.Add(busyA, Read, busy); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(quietA, Read, quiet); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(busyB, make([]byte, 100_000)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the busy socket to be served", func() bool { return busy.got.Load() > 10 })
	if _, err := unix.Write(quietB, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the quiet socket to be served while the busy one has input", func() bool { return quiet.got.Load() == 2 })
	if busy.got.Load() >= 100_000 {
		t.Fatal("the busy socket was drained first: the test proves nothing")
	}
}
