package actor

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

// System owns the actors spawned into it: it starts their activations,
// tracks every goroutine it starts (activations and System.Go), and waits
// for all of them in Shutdown.
//
// Concurrency: all methods are safe for concurrent use. A System must be
// created with NewSystem and not copied.
type System struct {
	log      *zap.Logger
	dispatch func(run func()) // starts an activation; nil means `go run()`
	budget   int              // messages per activation before it yields; 0 = no limit

	// closed is set once by Shutdown. It is read on every Post, so it sits
	// on its own cache line, away from the counter that every activation
	// writes.
	closed atomic.Bool
	_      [64]byte

	track tracker

	// closing is closed when Shutdown begins; see Closing.
	closing   chan struct{}
	closeOnce sync.Once // guards the close of closing and of track

	// pools maps reflect.Type of a message type M to its *ringPool[M].
	pools sync.Map
}

// Option configures a System. Options are code seams (tests, embedding),
// not operator knobs.
type Option func(*System)

// WithDispatcher replaces how activations are started; it is a code seam
// for tests and embedding. The default starts a new goroutine per
// activation (`go run()`). d must call run exactly once, eventually:
// Shutdown waits for every run to return, so a dispatcher that drops one
// makes Shutdown wait until its context ends. Post calls d after releasing
// the actor's lock, so d may also call run synchronously, at the price of
// Post no longer returning before the queue drains.
func WithDispatcher(d func(run func())) Option {
	return func(s *System) { s.dispatch = d }
}

// WithBudget bounds an activation to n messages: after n it yields, and
// if messages remain it is started again through the dispatcher, behind
// whatever the dispatcher already queued. With a dispatcher that runs many
// actors on one goroutine (an event loop), it keeps one busy actor from
// holding that goroutine. n <= 0 means no bound (the default). Ordering and
// the one-activation-at-a-time rule are unchanged.
func WithBudget(n int) Option {
	return func(s *System) { s.budget = n }
}

// NewSystem returns a running System that logs recovered panics to log. A
// nil log discards them.
func NewSystem(log *zap.Logger, opts ...Option) *System {
	if log == nil {
		log = zap.NewNop()
	}
	s := &System{
		log:     log,
		closing: make(chan struct{}),
	}
	s.track.idle = make(chan struct{})
	for _, o := range opts {
		o(s)
	}
	return s
}

// Go runs fn on a new tracked goroutine: Shutdown waits for it to return.
// Use it for long-running loops that belong to the System's lifetime; such
// loops should return when Closing is closed. After Shutdown began, fn is
// not started (the call is logged at Warn). A panic in fn is not recovered:
// it crashes the process like any other goroutine's panic.
func (s *System) Go(fn func()) {
	if !s.track.add() {
		s.log.Warn("actor: System.Go called after Shutdown; goroutine not started")
		return
	}
	go func() {
		defer s.track.done()
		fn()
	}()
}

// Closing returns a channel that is closed when Shutdown begins. Loops
// started with Go select on it to know when to return.
func (s *System) Closing() <-chan struct{} { return s.closing }

// Shutdown stops the System from accepting work and waits for it to drain:
// from the moment it is called, every Post and PostSystem returns
// ErrStopped and Go starts nothing. It then waits until every activation
// and every goroutine started by Go has returned. Activations already
// running keep draining the messages that were queued before Shutdown, so
// they end on their own; OnStop callbacks are not called by Shutdown
// (actors are not stopped, only closed to new messages; call Ref.Stop
// first where cleanup matters).
//
// If ctx ends first, Shutdown returns an error wrapping ctx.Err() that
// reports how many goroutines were still running; calling it again with a
// new ctx continues the wait. Shutdown is idempotent and safe to call
// concurrently.
func (s *System) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.closing)
		s.track.close()
	})
	select {
	case <-s.track.idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("actor: shutdown with %d goroutines still running: %w",
			s.track.running(), ctx.Err())
	}
}

// start launches one activation through the dispatcher. The caller has
// already counted it with track.add.
func (s *System) start(run func()) {
	if s.dispatch != nil {
		s.dispatch(run)
		return
	}
	go run()
}

// trackClosed is the bit of tracker.state that marks the tracker closed.
const trackClosed = int64(1) << 62

// tracker counts running goroutines and signals when the count reaches zero
// after close. It is a WaitGroup that refuses Add after close, without a
// lock: state holds the count in its low bits and trackClosed once closed.
// Because add fails once closed, the count only decreases after close, so
// exactly one transition reaches "closed and zero" and closes idle once.
//
// Concurrency: safe for concurrent use.
type tracker struct {
	state atomic.Int64
	idle  chan struct{} // closed when closed and the count is zero
}

// add counts one more goroutine. It returns false, counting nothing, after
// close.
func (t *tracker) add() bool {
	for {
		s := t.state.Load()
		if s&trackClosed != 0 {
			return false
		}
		if t.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// done uncounts one goroutine counted by add.
func (t *tracker) done() {
	if t.state.Add(-1) == trackClosed {
		close(t.idle)
	}
}

// close refuses further adds. Call it once.
func (t *tracker) close() {
	if t.state.Or(trackClosed) == 0 {
		close(t.idle)
	}
}

// running reports how many counted goroutines have not called done.
func (t *tracker) running() int64 {
	return t.state.Load() &^ trackClosed
}
