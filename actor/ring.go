package actor

import (
	"math/bits"
	"reflect"
	"sync"
)

// minRingSlots is the size of the first ring a lane takes when its first
// message arrives. Rings double from there as needed: a normal lane's ring
// ends at the first power of two that holds its capacity; the system lane
// has no bound.
const minRingSlots = 8

// ring is a FIFO of messages stored in a power-of-two circular buffer. A
// lane holds a ring only while it has messages (or while its actor is
// scheduled); an idle actor holds none, which keeps it small.
//
// Concurrency: not safe for concurrent use; every ring is owned by one Ref
// and only touched under that Ref's mutex, or by the pool.
type ring[M any] struct {
	buf  []M // len(buf) is a power of two; slots outside [head, head+n) are zero
	head int // index of the oldest message
	n    int // number of messages queued
}

// push appends m. The caller has ensured that n < len(buf).
func (r *ring[M]) push(m M) {
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = m
	r.n++
}

// pop removes and returns the oldest message. The caller has ensured n > 0.
// The slot is zeroed so the ring does not keep the message reachable.
func (r *ring[M]) pop() M {
	var zero M
	m := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return m
}

// clear drops every queued message, zeroing their slots.
func (r *ring[M]) clear() {
	for r.n > 0 {
		r.pop()
	}
	r.head = 0
}

// ringPool recycles the rings of every actor of one message type within a
// System: a ring is taken when a lane receives its first message and given
// back when the actor goes idle, so idle actors hold no ring storage.
// classes[i] holds rings of 1<<i slots.
//
// Concurrency: safe for concurrent use (sync.Pool).
type ringPool[M any] struct {
	classes [bits.UintSize]sync.Pool
}

// get returns an empty ring with exactly slots slots (a power of two).
func (p *ringPool[M]) get(slots int) *ring[M] {
	c := bits.Len(uint(slots)) - 1
	if r, ok := p.classes[c].Get().(*ring[M]); ok {
		return r
	}
	return &ring[M]{buf: make([]M, slots)}
}

// put gives an empty ring back for reuse. r must not be used afterwards.
func (p *ringPool[M]) put(r *ring[M]) {
	r.head = 0
	p.classes[bits.Len(uint(len(r.buf)))-1].Put(r)
}

// grow returns a ring twice the size of r (or a minimum-size ring when r is
// nil) holding r's messages in order, and recycles r.
func (p *ringPool[M]) grow(r *ring[M]) *ring[M] {
	if r == nil {
		return p.get(minRingSlots)
	}
	bigger := p.get(2 * len(r.buf))
	for r.n > 0 {
		bigger.push(r.pop())
	}
	p.put(r)
	return bigger
}

// poolFor returns the System's ring pool for message type M, creating it on
// first use. Called once per Spawn, never per message.
func poolFor[M any](s *System) *ringPool[M] {
	key := reflect.TypeFor[M]()
	if p, ok := s.pools.Load(key); ok {
		return p.(*ringPool[M])
	}
	p, _ := s.pools.LoadOrStore(key, new(ringPool[M]))
	return p.(*ringPool[M])
}
