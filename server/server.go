package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/actor"
	"github.com/chatd/chatd/server/internal/poll"
)

// readBufferSize is each event loop's read buffer.
const readBufferSize = 16 << 10

// Server is a chatd WebSocket server. Its methods are safe for concurrent
// use. A Server serves one listener and cannot be restarted after Shutdown.
type Server struct {
	// cfg is the Config New was given. Fields that Reconfigure changes
	// are read from live (or admission) instead, never from cfg.
	cfg Config
	log *zap.Logger
	// live holds the settings Reconfigure changes (reconfigure.go).
	live          atomic.Pointer[liveSettings]
	reconfigureMu sync.Mutex // serialises Reconfigure
	routes        map[string]Endpoint
	prefixes      []prefixRoute           // longest first
	files         map[string]fileResponse // HandleFiles, by request path
	health        func() string           // SetHealth; nil: always "ok"

	// sys runs the server's own goroutines (the sweeper); connections'
	// actors run on their loops' systems.
	sys      *actor.System
	loops    []*loop
	nextLoop atomic.Uint32
	// poller watches the listener and the lingering sockets.
	poller  *poll.Poller
	reg     *registry
	adm     *admission
	lingers *lingerSet
	// tls holds server.tls's current certificate; nil when TLS is off.
	tls    *tlsStore
	nextID atomic.Uint64
	// closingRead counts bytes read from connections chatd had decided to
	// close, in all (tests check the bound on it).
	closingRead atomic.Int64
	// stats and epStats are the counters behind Stats (stats.go); epStats
	// is filled by New, Handle and HandlePrefix, and only read after Serve.
	stats serverStats
	// tlsHandshaking counts TLS handshakes on their goroutines (not yet
	// Conns, so not in reg): part of Stats.Open.
	tlsHandshaking atomic.Int64
	epMu           sync.Mutex // guards epStats against Stats while routes are registered
	epStats        map[string]*endpointStats
	zstats         deflateStats

	addr       atomic.Pointer[net.Addr]
	closing    atomic.Bool
	stopSweep  chan struct{}
	stopAccept chan struct{} // closed by Shutdown to end the accept loop
	serveDone  chan struct{}
	serving    atomic.Bool
	mu         sync.Mutex // guards ln
	ln         net.Listener
	shutdownMu sync.Mutex // serialises Shutdown
}

// New builds a server for cfg. It starts the event loops, the poller and
// the sweeper; call Serve or ListenAndServe to accept connections, and Shutdown
// to release everything.
func New(cfg Config, log *zap.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config:\n%w", err)
	}
	s := &Server{
		cfg:        cfg,
		log:        log,
		routes:     map[string]Endpoint{},
		reg:        newRegistry(),
		adm:        newAdmission(cfg.Connections, cfg.Handshake.MaxConcurrent),
		stopSweep:  make(chan struct{}),
		stopAccept: make(chan struct{}),
		serveDone:  make(chan struct{}),
	}
	s.live.Store(newLiveSettings(cfg))
	s.lingers = newLingerSet(s)
	if cfg.TLS.Enabled() {
		ts, err := newTLSStore(cfg.TLS, log)
		if err != nil {
			return nil, err
		}
		s.tls = ts
	}
	if cfg.Echo {
		s.Handle("/echo", EndpointFunc(newEcho))
	}
	p, err := poll.New(func(err error) { log.Error("epoll wait failed", zap.Error(err)) })
	if err != nil {
		return nil, err
	}
	s.poller = p
	if err := s.startLoops(cfg.Loops()); err != nil {
		_ = p.Close()
		return nil, err
	}
	s.sys = actor.NewSystem(log)
	s.sys.Go(func() { s.sweepLoop(s.stopSweep) })
	if s.tls != nil {
		s.sys.Go(func() { s.tls.watch(s.stopSweep) })
	}
	return s, nil
}

// Handle serves endpoint ep at path. It must be called before Serve.
func (s *Server) Handle(path string, ep Endpoint) {
	s.routes[path] = ep
	s.endpointStatsFor(path)
}

// SetHealth makes /healthz answer check's detail when it is not empty (the
// server is up but degraded, e.g. a cluster node cut off from NATS), still
// with 200: /healthz says the process serves. Call it before
// ListenAndServe; check runs on an event loop and must not block.
func (s *Server) SetHealth(check func() string) { s.health = check }

// HandlePrefix serves endpoint ep at every path that starts with prefix
// and has more after it (prefix "/ws/" takes "/ws/alice", not "/ws/"). An
// exact path given to Handle wins; of several prefixes, the longest. It
// must be called before Serve.
func (s *Server) HandlePrefix(prefix string, ep Endpoint) {
	s.prefixes = append(s.prefixes, prefixRoute{prefix, ep, s.endpointStatsFor(prefix + "*")})
	slices.SortFunc(s.prefixes, func(a, b prefixRoute) int { return len(b.prefix) - len(a.prefix) })
}

// prefixRoute is one HandlePrefix registration.
type prefixRoute struct {
	prefix string
	ep     Endpoint
	st     *endpointStats
}

// endpoint returns the endpoint serving path, and its counters.
func (s *Server) endpoint(path string) (Endpoint, *endpointStats, bool) {
	if ep, ok := s.routes[path]; ok {
		return ep, s.epStats[path], true
	}
	for _, r := range s.prefixes {
		if len(path) > len(r.prefix) && strings.HasPrefix(path, r.prefix) {
			return r.ep, r.st, true
		}
	}
	return nil, nil, false
}

// ListenAndServe listens on cfg.Listen and serves until Shutdown.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Shutdown, then returns nil. It
// returns an error if the listener fails for good.
func (s *Server) Serve(ln net.Listener) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("server: Serve called twice")
	}
	defer close(s.serveDone)
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = ln
	addr := ln.Addr()
	s.addr.Store(&addr)
	s.mu.Unlock()
	s.log.Info("listening", zap.Stringer("addr", addr), zap.Strings("endpoints", s.endpoints()))
	return s.acceptLoop(ln)
}

// Addr is the listening address, or nil before Serve.
func (s *Server) Addr() net.Addr {
	if a := s.addr.Load(); a != nil {
		return *a
	}
	return nil
}

func (s *Server) endpoints() []string {
	eps := []string{"/healthz"}
	for p := range s.routes {
		eps = append(eps, p)
	}
	slices.Sort(eps)
	return eps
}

// Shutdown stops accepting, sends close 1001 to every connection and waits
// until they have closed or ctx ends; connections still open then are closed
// at once. Finally it stops every goroutine the server started.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownMu.Lock()
	defer s.shutdownMu.Unlock()
	if s.closing.Swap(true) {
		return nil
	}
	close(s.stopAccept)
	s.mu.Lock()
	serving := s.serving.Load()
	s.mu.Unlock()
	if serving {
		<-s.serveDone // the accept loop no longer uses the listener's fd
	}
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Unlock()

	open := s.reg.beginShutdown()
	for _, c := range open {
		c.postSystem(event{kind: evClose, code: StatusGoingAway, reason: "server shutting down"})
	}
	var err error
	select {
	case <-s.reg.drained:
	case <-ctx.Done():
		err = fmt.Errorf("shutdown: %d connections still closing: %w", s.reg.len(), ctx.Err())
		for _, c := range s.reg.snapshot(nil) {
			c.postSystem(event{kind: evAbort, reason: "shutdown timeout"})
		}
		select {
		case <-s.reg.drained:
		case <-time.After(time.Second):
		}
	}
	close(s.stopSweep)
	s.lingers.shutdown()
	if perr := s.poller.Close(); perr != nil {
		err = errors.Join(err, perr)
	}
	waitCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := s.sys.Shutdown(waitCtx); serr != nil {
		err = errors.Join(err, fmt.Errorf("shutdown: %w", serr))
	}
	if serr := s.shutdownActors(waitCtx); serr != nil {
		err = errors.Join(err, fmt.Errorf("shutdown: %w", serr))
	}
	s.stopLoops()
	return err
}
