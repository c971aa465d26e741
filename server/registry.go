package server

import "sync"

// registry holds the open connections, for the sweeper and for shutdown.
//
// mu guards conns and drained. drained is closed when the registry becomes
// empty after shutdown began.
type registry struct {
	mu       sync.Mutex
	conns    map[*Conn]struct{}
	shutdown bool
	drained  chan struct{}
}

func newRegistry() *registry {
	return &registry{conns: make(map[*Conn]struct{}), drained: make(chan struct{})}
}

// add registers c; it reports false once shutdown has begun.
func (r *registry) add(c *Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shutdown {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *registry) remove(c *Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, c)
	r.signalLocked()
}

func (r *registry) signalLocked() {
	if r.shutdown && len(r.conns) == 0 {
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
	for c := range r.conns {
		dst = append(dst, c)
	}
	return dst
}

func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns)
}
