package bridge

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/throttle"
	"github.com/chatd/chatd/server"
)

// loginWorkers bounds the logins of bridged connections checked at once;
// a login past it is answered "server busy, try again".
const loginWorkers = 16

// maxLoginAttempts is how many refused logins a bridged connection gets
// before it is closed with 4001.
const maxLoginAttempts = 5

// Bridge serves the configured programs. It is safe for concurrent use.
type Bridge struct {
	cfg   Config
	log   *zap.Logger
	authn auth.Authenticator
	// throttle counts login attempts per address and failures per name:
	// WithThrottle's (chatd shares /ws's), or one with throttle.Default.
	throttle *throttle.Throttle
	eps      []*endpoint

	running atomic.Int64  // processes of all paths
	logins  chan struct{} // a token per login being checked
	wg      sync.WaitGroup

	mu     sync.Mutex // guards procs and closed
	procs  map[*process]struct{}
	closed bool
}

// endpoint is one program's path: a server.Endpoint.
type endpoint struct {
	b       *Bridge
	prog    Program
	argv    []string // Command with its program looked up
	passEnv []string // NAME=value, from chatd's environment at New
	running atomic.Int64
	shared  *shared // shared mode only

	stderr        *rate.Limiter
	stderrDropped atomic.Int64
}

// Route is a path and the endpoint that serves it.
type Route struct {
	Path     string
	Endpoint server.Endpoint
}

// Option adjusts a code seam of the Bridge.
type Option func(*Bridge)

// WithThrottle counts the logins of programs with login: true in t, which
// chatd shares with /ws so that a guesser cannot spread attempts over the
// paths. Without it the bridge has a throttle of its own, with
// throttle.Default (the chat.login defaults).
func WithThrottle(t *throttle.Throttle) Option { return func(b *Bridge) { b.throttle = t } }

// New checks cfg, looks the programs up, and starts the shared ones.
// authn checks the logins of programs with login: true; it may be nil if
// none has. Close stops every process.
func New(cfg Config, authn auth.Authenticator, log *zap.Logger, opts ...Option) (*Bridge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &Bridge{cfg: cfg, log: log, authn: authn, logins: make(chan struct{}, loginWorkers),
		procs: map[*process]struct{}{}}
	for _, opt := range opts {
		opt(b)
	}
	if b.throttle == nil {
		b.throttle = throttle.New(throttle.Default())
	}
	for _, p := range cfg.Programs {
		if p.Login && authn == nil {
			return nil, fmt.Errorf("bridge %s: login: true needs an auth backend", p.Path)
		}
		exe, err := exec.LookPath(p.Command[0])
		if err != nil {
			return nil, fmt.Errorf("bridge %s: %w", p.Path, err)
		}
		burst := max(cfg.StderrLinesPerSecond, 1)
		ep := &endpoint{b: b, prog: p, argv: append([]string{exe}, p.Command[1:]...),
			passEnv: environ(p.PassEnv),
			stderr:  rate.NewLimiter(rate.Limit(cfg.StderrLinesPerSecond), burst)}
		if cfg.StderrLinesPerSecond == 0 {
			ep.stderr = rate.NewLimiter(0, 0)
		}
		b.eps = append(b.eps, ep)
	}
	for _, ep := range b.eps {
		if ep.prog.Shared() {
			ep.shared = newShared(ep)
			b.wg.Add(1)
			go ep.shared.run()
		}
	}
	return b, nil
}

// Routes returns the paths to serve and their endpoints, in config order.
func (b *Bridge) Routes() []Route {
	r := make([]Route, len(b.eps))
	for i, ep := range b.eps {
		r[i] = Route{Path: ep.prog.Path, Endpoint: ep}
	}
	return r
}

// Running returns the number of running processes.
func (b *Bridge) Running() int { return int(b.running.Load()) }

// Close stops every process (stdin closed, SIGTERM, SIGKILL, as when a
// client goes) and the shared programs' supervisors, and waits until all
// are reaped and every goroutine of the bridge has returned, or ctx ends:
// then the remaining processes get SIGKILL at once. Call it after the
// server has shut down, so no connection starts a process meanwhile.
func (b *Bridge) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	procs := make([]*process, 0, len(b.procs))
	for p := range b.procs {
		procs = append(procs, p)
	}
	b.mu.Unlock()
	for _, ep := range b.eps {
		if ep.shared != nil {
			ep.shared.close()
		}
	}
	for _, p := range procs {
		p.stop()
	}
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	for p := range b.procs {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	}
	n := len(b.procs)
	b.mu.Unlock()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	return fmt.Errorf("bridge: %d processes still running at the deadline, killed: %w", n, ctx.Err())
}

// reserve counts a process against the limits, if they allow one more.
func (b *Bridge) reserve(ep *endpoint) bool {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return false
	}
	if b.running.Add(1) > int64(b.cfg.MaxProcesses) {
		b.running.Add(-1)
		return false
	}
	if ep.running.Add(1) > int64(b.cfg.MaxProcessesPerPath) {
		ep.running.Add(-1)
		b.running.Add(-1)
		return false
	}
	return true
}

func (b *Bridge) release(ep *endpoint) {
	ep.running.Add(-1)
	b.running.Add(-1)
}

func (b *Bridge) track(p *process) {
	b.mu.Lock()
	b.procs[p] = struct{}{}
	closed := b.closed
	b.mu.Unlock()
	if closed {
		p.stop()
	}
}

func (b *Bridge) untrack(p *process) {
	b.mu.Lock()
	delete(b.procs, p)
	b.mu.Unlock()
}

// Open starts a session for a connection to the program's path.
func (ep *endpoint) Open(c *server.Conn) server.Session {
	if ep.shared != nil {
		return ep.shared.open(c)
	}
	return ep.openPerConnection(c)
}
