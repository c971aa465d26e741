package poll

import (
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// socketPair returns two connected non-blocking stream sockets.
func socketPair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fds[0]); syscall.Close(fds[1]) })
	return fds[0], fds[1]
}

func newPoller(t *testing.T) *Poller {
	t.Helper()
	p, err := New(func(err error) { t.Errorf("epoll wait: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

func waitCount(t *testing.T, n *atomic.Int32, want int32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("got %d callbacks, want %d", n.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// stays asserts no further callback arrives for a short while. A callback
// that should not happen would come within microseconds; 50ms is generous.
func stays(t *testing.T, n *atomic.Int32, want int32) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	if got := n.Load(); got != want {
		t.Fatalf("got %d callbacks, want %d", got, want)
	}
}

// TestOneShotLevelTriggered: one callback per arm; unread data is reported
// again at the next arm (level-triggered), never lost.
func TestOneShotLevelTriggered(t *testing.T) {
	p := newPoller(t)
	a, b := socketPair(t)
	var reads atomic.Int32
	w, err := p.Add(a, func(r Ready) {
		if !r.Read || r.Write {
			t.Errorf("ready = %+v, want read only", r)
		}
		reads.Add(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.Write(b, []byte("two frames")); err != nil {
		t.Fatal(err)
	}
	stays(t, &reads, 0) // registered disarmed
	if err := w.ArmRead(); err != nil {
		t.Fatal(err)
	}
	waitCount(t, &reads, 1)
	stays(t, &reads, 1) // one-shot: no second callback although data is unread
	if err := w.ArmRead(); err != nil {
		t.Fatal(err)
	}
	waitCount(t, &reads, 2) // the unread bytes are reported again
	if err := w.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := w.ArmRead(); err != nil {
		t.Fatal(err)
	}
	stays(t, &reads, 2) // removed: arming does nothing
}

// TestReadAndWriteInterest: arming write while read is armed keeps both;
// a read event re-arms the write interest that was not reported.
func TestReadAndWriteInterest(t *testing.T) {
	p := newPoller(t)
	a, b := socketPair(t)
	var reads, writes atomic.Int32
	w, err := p.Add(a, func(r Ready) {
		if r.Read {
			reads.Add(1)
		}
		if r.Write {
			writes.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Fill a's send buffer so it is not writable.
	chunk := make([]byte, 64<<10)
	for {
		if _, err := syscall.Write(a, chunk); err != nil {
			break
		}
	}
	if err := w.ArmRead(); err != nil {
		t.Fatal(err)
	}
	if err := w.ArmWrite(); err != nil {
		t.Fatal(err)
	}
	stays(t, &writes, 0)
	// Make a readable: the read fires; the write interest must survive it.
	if _, err := syscall.Write(b, []byte("x")); err != nil {
		t.Fatal(err)
	}
	waitCount(t, &reads, 1)
	// Drain b so a becomes writable: the surviving write interest fires.
	buf := make([]byte, 1<<20)
	for {
		if _, err := syscall.Read(b, buf); err != nil {
			break
		}
	}
	waitCount(t, &writes, 1)
	stays(t, &reads, 1)
	_ = w.Remove()
}
