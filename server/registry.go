package server

import "sync"

// registry holds the open connections, for the sweeper and for shutdown.
// It is an intrusive doubly linked list through the connections
// themselves (Conn.regPrev, regNext): registering costs a connection two
// pointers and no map entry.
//
// mu guards the list, n, shutdown and every Conn's regPrev and regNext.
// drained is closed when the registry becomes empty after shutdown began.
type registry struct {
	mu       sync.Mutex
	head     *Conn
	n        int
	shutdown bool
	drained  chan struct{}
}

func newRegistry() *registry {
	return &registry{drained: make(chan struct{})}
}

// add registers c; it reports false once shutdown has begun.
func (r *registry) add(c *Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shutdown {
		return false
	}
	c.regNext = r.head
	if r.head != nil {
		r.head.regPrev = c
	}
	r.head = c
	r.n++
	return true
}

// remove unregisters c; it does nothing if c is not registered.
func (r *registry) remove(c *Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.regPrev == nil && r.head != c {
		return // not registered
	}
	if c.regPrev != nil {
		c.regPrev.regNext = c.regNext
	} else {
		r.head = c.regNext
	}
	if c.regNext != nil {
		c.regNext.regPrev = c.regPrev
	}
	c.regPrev, c.regNext = nil, nil
	r.n--
	r.signalLocked()
}

func (r *registry) signalLocked() {
	if r.shutdown && r.n == 0 {
		select {
		case <-r.drained:
		default:
			close(r.drained)
		}
	}
}

// beginShutdown refuses new connections and returns the open ones.
func (r *registry) beginShutdown() []*Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shutdown = true
	r.signalLocked()
	return r.snapshotLocked(nil)
}

// snapshot appends the open connections to dst.
func (r *registry) snapshot(dst []*Conn) []*Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snapshotLocked(dst)
}

func (r *registry) snapshotLocked(dst []*Conn) []*Conn {
	for c := r.head; c != nil; c = c.regNext {
		dst = append(dst, c)
	}
	return dst
}

func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
