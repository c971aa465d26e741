package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"go.uber.org/zap"

	"github.com/chatd/chatd/actor"
	"github.com/chatd/chatd/server/internal/deflate"
	"github.com/chatd/chatd/server/internal/evloop"
	"github.com/chatd/chatd/server/internal/wsframe"
)

// activationBudget is how many events a connection's actor handles before
// it yields its loop to the connections queued behind it.
const activationBudget = 64

// loop is one event loop and the actor system of the connections it owns.
// A connection belongs to one loop for its life: its socket callbacks, its
// actor's activations and its flushes all run on the loop's goroutine, one
// at a time.
type loop struct {
	*evloop.Loop
	sys  *actor.System
	bufs bufferPool // loop only
	// dec decodes the input of every connection of the loop that has no
	// incomplete frame or message of its own (see Conn.consume). Loop only.
	dec wsframe.Decoder
	st  loopStats   // traffic counters (stats.go); written on the loop only
	z   loopDeflate // loop only
}

// startLoops starts n event loops.
func (s *Server) startLoops(n int) error {
	for range n {
		var comp *deflate.Compressor
		if s.cfg.Compression.Enabled {
			var err error
			if comp, err = deflate.NewCompressor(s.cfg.Compression.Level); err != nil {
				s.stopLoops()
				return err
			}
		}
		el, err := evloop.New(s.log, readBufferSize)
		if err != nil {
			s.stopLoops()
			return err
		}
		s.loops = append(s.loops, &loop{
			Loop: el,
			sys:  actor.NewSystem(s.log, actor.WithDispatcher(el.Post), actor.WithBudget(activationBudget)),
			dec:  wsframe.Decoder{MaxMessage: s.cfg.Limits.MaxMessageBytes}, // reset from s.live per message (decoderFor)
			z:    loopDeflate{comp: comp},
		})
	}
	return nil
}

// pickLoop chooses the loop for a new connection, round robin.
func (s *Server) pickLoop() *loop {
	return s.loops[int(s.nextLoop.Add(1))%len(s.loops)]
}

// shutdownActors closes every loop's actor system to new messages and
// waits, within ctx, for the activations in progress to drain.
func (s *Server) shutdownActors(ctx context.Context) error {
	var err error
	for i, l := range s.loops {
		if serr := l.sys.Shutdown(ctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("loop %d: %w", i, serr))
		}
	}
	return err
}

// stopLoops closes every loop. Nothing may be registered on them any more.
func (s *Server) stopLoops() {
	for i, l := range s.loops {
		if err := l.Close(); err != nil {
			s.log.Warn("event loop close", zap.Int("loop", i), zap.Error(err))
		}
	}
}

// connEvents and connFlush are a Conn seen by its loop: socket readiness,
// and the flush at the end of a wake. Conversions, not wrappers: they cost
// the connection nothing.
type (
	connEvents Conn
	connFlush  Conn
)

// OnEvents runs on the connection's loop when its socket is ready.
func (e *connEvents) OnEvents(ev evloop.Events) {
	c := (*Conn)(e)
	if c.closed.Load() {
		return // removed earlier in this batch (see evloop.Loop.Del)
	}
	defer c.recoverOnLoop()
	if ev&(evloop.Read|evloop.Hangup|evloop.Error) != 0 && c.interest&interestRead != 0 {
		c.reading = true
		c.readable(c.loop.Buffer())
		c.reading = false
	}
	if ev&(evloop.Write|evloop.Hangup|evloop.Error) != 0 && c.interest&interestWrite != 0 && !c.closed.Load() {
		c.writable()
	}
}

// Flush writes what the connection queued during the wake.
func (f *connFlush) Flush() {
	c := (*Conn)(f)
	defer c.recoverOnLoop()
	c.dirty = false
	c.flushQueued()
}

// recoverOnLoop, deferred by the connection's loop callbacks, closes the
// connection whose code panicked (1011), and only it.
func (c *Conn) recoverOnLoop() {
	if v := recover(); v != nil {
		c.reading = false
		c.crashed(&actor.PanicError{Value: v, Stack: debug.Stack()})
	}
}

// Output buffers. A connection holds an output buffer only while it has
// output queued; written out, the buffer goes back to its loop's free
// lists, so the next frames for any connection of that loop reuse it. The
// lists are the loop's own (no lock) and bounded, and the sweeper empties
// those of a loop that took no buffer since its previous tick, so an idle
// server keeps none.
var bufferClasses = [...]struct{ size, keep int }{
	{512, 1024},
	{4 << 10, 256},
	{32 << 10, 32},
}

// bufferPool is a loop's free output buffers, by class. Loop only.
type bufferPool struct {
	free  [len(bufferClasses)][][]byte
	taken bool // a buffer was taken since the last trim
}

// getBuffer returns an empty buffer with room for n bytes.
func (l *loop) getBuffer(n int) []byte {
	l.bufs.taken = true
	for i, cl := range bufferClasses {
		if n > cl.size {
			continue
		}
		if f := l.bufs.free[i]; len(f) > 0 {
			b := f[len(f)-1]
			f[len(f)-1] = nil
			l.bufs.free[i] = f[:len(f)-1]
			return b
		}
		return make([]byte, 0, cl.size)
	}
	return make([]byte, 0, n)
}

// putBuffer gives back a buffer (as getBuffer returned it, grown or not)
// whose bytes have all been written.
func (l *loop) putBuffer(b []byte) {
	c := cap(b)
	for i := len(bufferClasses) - 1; i >= 0; i-- {
		cl := bufferClasses[i]
		if c < cl.size {
			continue
		}
		if c > 2*cl.size && i == len(bufferClasses)-1 {
			return // grown far past the largest class: let it go
		}
		if len(l.bufs.free[i]) < cl.keep {
			l.bufs.free[i] = append(l.bufs.free[i], b[:0])
		}
		return
	}
}

// trimBuffers runs on the loop at each sweep: a loop that took no buffer
// since the previous one drops its free lists.
func (l *loop) trimBuffers() {
	if !l.bufs.taken {
		l.bufs.free = [len(bufferClasses)][][]byte{}
	}
	l.bufs.taken = false
}

// Loop is the event loop a connection belongs to, as sessions see it: a
// comparable handle (connections of the same loop have equal Loops) that
// runs functions there. A fan-out groups its recipients by Loop and hands
// each loop one function per message, instead of one post per recipient.
type Loop struct{ l *loop }

// Loop returns the event loop c belongs to.
func (c *Conn) Loop() Loop { return Loop{c.loop} }

// Run runs fn on the loop, from any goroutine; it never blocks. fn runs on
// the loop's goroutine, so never at the same time as the session of any
// connection of that loop, and it may do what those sessions' methods may
// do for them (write, close). It does not run in order with the events
// queued to those connections' sessions: a value that must be ordered
// with them goes through Conn.Notify. Functions handed to one Loop by one
// goroutine run in the order handed. A panic in fn is logged and recovered
// (it closes no connection: fn belongs to none). After Shutdown fn may
// never run.
func (l Loop) Run(fn func()) { l.l.Post(fn) }
