package actor

import (
	"fmt"
	"runtime/debug"
	"sync"

	"go.uber.org/zap"
)

// Ref is the handle of one actor: a Receiver plus a bounded queue with two
// lanes. The normal lane holds at most capacity messages; the system lane
// is unbounded and always served first. The actor runs on a goroutine only
// while its queue holds messages (see the package documentation).
//
// Concurrency: all methods are safe for concurrent use by any number of
// goroutines, including from the actor's own Receive. Create a Ref with
// Spawn; the zero value is not usable.
type Ref[M any] struct {
	sys      *System
	recv     Receiver[M]
	onStop   func(error) // nil when not set
	pool     *ringPool[M]
	log      *zap.Logger
	capacity int32 // bound of the normal lane

	// The fields above are immutable after Spawn.
	mu sync.Mutex // guards every field below

	normal    *ring[M] // normal lane; nil whenever the actor is idle (and until first used)
	system    *ring[M] // system lane; nil whenever the actor is idle (and until first used)
	runFn     func()   // a.run, built on the first activation and reused, so activations do not allocate
	scheduled bool     // an activation is running or started; it owns the rings and OnStop
	stopped   bool     // Stop was called or Receive panicked; never reset
}

// SpawnOption configures one actor at Spawn.
type SpawnOption func(*spawnConfig)

// spawnConfig collects SpawnOptions. Concurrency: local to one Spawn call.
type spawnConfig struct {
	onStop func(error)
	log    *zap.Logger
}

// WithOnStop sets fn to be called exactly once when the actor stops:
// with nil after Stop, or with a *PanicError after Receive panicked.
//
// fn runs on the actor's activation goroutine when the actor was running
// (or scheduled to run) at the time it stopped, after the message in
// progress returned; that includes Stop called from inside Receive and
// every panic. When Stop is called on an idle actor, fn runs synchronously
// on the goroutine calling Stop, before Stop returns. Either way fn runs
// after the last Receive returned and never concurrently with it.
// fn must not block (System.Shutdown waits for it when it runs on an
// activation) and must not panic (it runs outside the recovered region).
// Shutdown itself does not stop actors and so does not call fn.
func WithOnStop(fn func(err error)) SpawnOption {
	return func(c *spawnConfig) { c.onStop = fn }
}

// DeadLetterer is implemented by a Receiver that wants the messages its
// actor never received because it stopped (Stop, or a panic in Receive)
// while they were queued: its dead letters. DeadLetter is called for each,
// the system lane's first, then the normal lane's, each in queue order. It
// runs where OnStop runs (see WithOnStop), just after it: on the activation
// goroutine after the message in progress returned, or synchronously
// inside Stop when the actor was idle; so never concurrently with Receive.
// Use it when a message carries a promise that must be settled (a reply
// owed to another actor). Being a method of the Receiver, it costs an
// actor no memory.
type DeadLetterer[M any] interface {
	DeadLetter(msg M)
}

// StopObserver is implemented by a Receiver that wants to know when its
// actor stops: ActorStopped is called exactly once, with nil after Stop or
// with a *PanicError after Receive panicked, where and when WithOnStop's
// function would be (after it, if both are set), and before the dead
// letters. Being a method of the Receiver, it costs an actor no memory,
// where WithOnStop costs a closure per actor.
type StopObserver interface {
	ActorStopped(err error)
}

// WithLogger sets the logger used for this actor's recovered panics, for
// example a per-connection child logger. The default is the System's.
func WithLogger(log *zap.Logger) SpawnOption {
	return func(c *spawnConfig) { c.log = log }
}

// Spawn creates an idle actor in sys that delivers its messages to r, with
// a normal lane bounded to capacity messages. It starts no goroutine.
// Spawn panics if capacity is less than 1 or does not fit in an int32.
func Spawn[M any](sys *System, r Receiver[M], capacity int, opts ...SpawnOption) *Ref[M] {
	if capacity < 1 || int64(capacity) > 1<<31-1 {
		panic(fmt.Sprintf("actor: Spawn capacity %d out of range [1, 2^31-1]", capacity))
	}
	a := &Ref[M]{
		sys:      sys,
		recv:     r,
		pool:     poolFor[M](sys),
		log:      sys.log,
		capacity: int32(capacity),
	}
	if len(opts) > 0 { // the config escapes; do not allocate it for option-less spawns
		cfg := &spawnConfig{log: a.log}
		for _, o := range opts {
			o(cfg)
		}
		a.onStop, a.log = cfg.onStop, cfg.log
	}
	return a
}

// Post queues msg in the normal lane. It never blocks. It returns
// ErrQueueFull when the lane already holds capacity messages, and
// ErrStopped after the actor stopped or the System began Shutdown; in both
// cases msg was not queued. Messages posted by one goroutine are received
// in the order posted.
func (a *Ref[M]) Post(msg M) error { return a.post(msg, false, 0, false) }

// PostSystem queues msg in the system lane, which has no capacity bound and
// is served before the normal lane: the actor checks it before every normal
// message. It never blocks and returns ErrStopped after the actor stopped
// or the System began Shutdown. Keep the system lane for rare control
// messages (close, kick, config change); its lack of bound is a promise to
// the caller, not a place for bulk traffic.
func (a *Ref[M]) PostSystem(msg M) error { return a.post(msg, true, 0, false) }

// PostBelow is Post with a lower bound: it returns ErrQueueFull when the
// normal lane already holds limit messages (or capacity, if less). A
// producer that may fill the queue (a socket reader) uses it to leave
// room for others' posts.
func (a *Ref[M]) PostBelow(msg M, limit int) error { return a.post(msg, false, limit, false) }

// PostInline is PostBelow, except that when the actor was idle its
// activation runs on the calling goroutine, before PostInline returns,
// instead of going through the dispatcher. It is for a caller that runs on
// the goroutine the dispatcher would use anyway (an event loop reading the
// actor's socket): the activation is the same (the budget, the panic
// recovery, Stop) without the hand-off. The caller must not be inside
// this actor's Receive, nor hold anything Receive may need.
func (a *Ref[M]) PostInline(msg M, limit int) error { return a.post(msg, false, limit, true) }

func (a *Ref[M]) post(msg M, system bool, limit int, inline bool) error {
	a.mu.Lock()
	if a.stopped || a.sys.closed.Load() {
		a.mu.Unlock()
		return ErrStopped
	}
	lane := &a.normal
	if system {
		lane = &a.system
	} else if a.normal != nil {
		bound := int(a.capacity)
		if limit > 0 && limit < bound {
			bound = limit
		}
		if a.normal.n >= bound {
			a.mu.Unlock()
			return ErrQueueFull
		}
	}
	var start func()
	if !a.scheduled {
		if !a.sys.track.add() { // Shutdown began after the check above
			a.mu.Unlock()
			return ErrStopped
		}
		a.scheduled = true
		if a.runFn == nil {
			a.runFn = a.run
		}
		start = a.runFn
	}
	if *lane == nil || (*lane).n == len((*lane).buf) {
		*lane = a.pool.grow(*lane)
	}
	(*lane).push(msg)
	a.mu.Unlock()
	switch {
	case start == nil:
	case inline:
		start()
	default:
		a.sys.start(start)
	}
	return nil
}

// Stop stops the actor after the message in progress, if any. Queued
// messages in both lanes are dropped (handed to the Receiver's DeadLetter,
// if it has one), later posts return ErrStopped, and the OnStop callback runs once
// (see WithOnStop for on which goroutine).
// Stop never blocks on the actor and is idempotent; it may be called from
// the actor's own Receive.
func (a *Ref[M]) Stop() {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return
	}
	a.stopped = true
	idle := !a.scheduled // else the activation drops the queue and calls OnStop when it sees stopped
	var dead []M
	if idle || !a.keepsDeadLetters() {
		// With dead letters on a busy actor, the activation collects the queue
		// when it sees stopped, so the dead letters are settled on it.
		dead = a.releaseLocked()
	}
	a.mu.Unlock()
	if idle {
		a.settle(dead, nil)
	}
}

// settle reports the stop to OnStop, then hands dead letters to the
// Receiver's DeadLetter.
func (a *Ref[M]) settle(dead []M, err error) {
	if a.onStop != nil {
		a.onStop(err)
	}
	if o, ok := a.recv.(StopObserver); ok {
		o.ActorStopped(err)
	}
	if d, ok := a.recv.(DeadLetterer[M]); ok {
		for _, m := range dead {
			d.DeadLetter(m)
		}
	}
}

// keepsDeadLetters reports whether the Receiver takes dead letters.
func (a *Ref[M]) keepsDeadLetters() bool {
	_, ok := a.recv.(DeadLetterer[M])
	return ok
}

// Len reports how many messages are queued in the normal lane, not
// counting the one in progress. It is a snapshot for metrics and tests.
func (a *Ref[M]) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.normal == nil {
		return 0
	}
	return a.normal.n
}

// releaseLocked drops every queued message and gives the rings back to the
// pool. When the Receiver takes dead letters it returns the dropped
// messages, system lane first. a.mu must be held.
func (a *Ref[M]) releaseLocked() (dead []M) {
	if a.keepsDeadLetters() && (a.system != nil || a.normal != nil) {
		for _, r := range []*ring[M]{a.system, a.normal} {
			for r != nil && r.n > 0 {
				dead = append(dead, r.pop())
			}
		}
	}
	if a.normal != nil {
		a.normal.clear()
		a.pool.put(a.normal)
		a.normal = nil
	}
	if a.system != nil {
		a.system.clear()
		a.pool.put(a.system)
		a.system = nil
	}
	return dead
}

// next returns the message to process: the oldest system message if any,
// else the oldest normal one. ok is false when the actor must end this
// activation; stopped then says whether it ended because of Stop. When the
// queue is empty next marks the actor idle and releases its rings under
// the same lock hold that checked for messages, so a concurrent Post either
// queued before the check (and is seen) or finds scheduled false (and
// starts a new activation): no wake-up is lost.
func (a *Ref[M]) next() (msg M, ok, stopped bool, dead []M) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.stopped:
		a.scheduled = false
		return msg, false, true, a.releaseLocked()
	case a.system != nil && a.system.n > 0:
		return a.system.pop(), true, false, nil
	case a.normal != nil && a.normal.n > 0:
		return a.normal.pop(), true, false, nil
	}
	a.releaseLocked()
	a.scheduled = false
	return msg, false, false, nil
}

// run is one activation: it drains the queue one message at a time, then
// goes idle. A panic in Receive ends the activation and stops the actor.
func (a *Ref[M]) run() {
	defer a.sys.track.done()
	finished := false
	defer func() {
		if finished {
			return
		}
		// Receive panicked, or called runtime.Goexit (recover returns nil).
		v := recover()
		if v == nil {
			v = "runtime.Goexit called in Receive"
		}
		a.fail(&PanicError{Value: v, Stack: debug.Stack()})
	}()
	for n := 1; ; n++ {
		msg, ok, stopped, dead := a.next()
		if !ok {
			finished = true
			if stopped {
				a.settle(dead, nil)
			}
			return
		}
		a.recv.Receive(msg)
		if n == a.sys.budget && a.yield() {
			finished = true
			return
		}
	}
}

// yield ends an activation that used its budget (WithBudget) while the
// actor stays scheduled, and starts a new activation through the
// dispatcher. It reports false, and the activation goes on, when Shutdown
// has begun (no new activation can be counted then).
func (a *Ref[M]) yield() bool {
	if !a.sys.track.add() {
		return false
	}
	a.sys.start(a.runFn)
	return true
}

// fail stops the actor after a recovered panic, logs it and reports it to
// OnStop. The activation owns OnStop here even if Stop was called while the
// message was in progress, because Stop saw scheduled set.
func (a *Ref[M]) fail(perr *PanicError) {
	a.mu.Lock()
	a.stopped = true
	a.scheduled = false
	dead := a.releaseLocked()
	a.mu.Unlock()
	a.log.Error("actor: Receive panicked; actor stopped",
		zap.String("receiver", fmt.Sprintf("%T", a.recv)),
		zap.Any("panic", perr.Value),
		zap.ByteString("stack", perr.Stack))
	a.settle(dead, perr)
}
