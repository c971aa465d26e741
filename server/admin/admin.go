package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// Checks are what /healthz and /readyz ask. Either may be nil.
type Checks struct {
	// Health returns "" when all is well, else a detail for /healthz
	// (still 200), as server.Server.SetHealth's check.
	Health func() string
	// Ready returns "" when the node may take traffic, else why not
	// (/readyz answers 503 with it).
	Ready func() string
}

// readiness states.
const (
	starting int32 = iota
	ready
	draining
)

// Server is the admin listener. See the package documentation.
type Server struct {
	cfg    Config
	log    *zap.Logger
	checks Checks
	state  atomic.Int32
	http   *http.Server
	ln     net.Listener
	done   chan struct{} // closed when Serve returned
}

// readHeaderTimeout bounds a request's head: the listener is for tools,
// which send theirs at once.
const readHeaderTimeout = 10 * time.Second

// Listen binds cfg.Listen and returns a Server, not yet serving (Start),
// that exposes reg on /metrics.
func Listen(cfg Config, reg *prometheus.Registry, checks Checks, log *zap.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, errors.New("admin: no admin.listen")
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("admin: listen %s: %w", cfg.Listen, err)
	}
	s := &Server{cfg: cfg, log: log, checks: checks, ln: ln, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          zap.NewStdLog(log),
		Registry:          reg, // promhttp_metric_handler_errors_total
		EnableOpenMetrics: false,
	}))
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/readyz", s.readyz)
	if cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout, ErrorLog: zap.NewStdLog(log)}
	return s, nil
}

// Addr is the address the listener is bound to.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Start serves on a goroutine until Shutdown.
func (s *Server) Start() {
	go func() {
		defer close(s.done)
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin listener failed", zap.Error(err))
		}
	}()
}

// SetReady marks the end of the start: /readyz answers from the Ready
// check from now on, unless draining began.
func (s *Server) SetReady() { s.state.CompareAndSwap(starting, ready) }

// SetDraining marks the start of shutdown: /readyz answers 503 from now on.
func (s *Server) SetDraining() { s.state.Store(draining) }

// Shutdown stops the listener, waiting within ctx for requests in flight
// (a CPU profile may take its whole ?seconds=).
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	select {
	case <-s.done:
	case <-ctx.Done():
	}
	return err
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	body := "ok"
	if s.checks.Health != nil {
		if d := s.checks.Health(); d != "" {
			body = d
		}
	}
	plain(w, http.StatusOK, body)
}

// Why reports what /readyz would answer: "" when ready.
func (s *Server) Why() string {
	switch s.state.Load() {
	case starting:
		return "starting"
	case draining:
		return "draining"
	}
	if s.checks.Ready != nil {
		return s.checks.Ready()
	}
	return ""
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if why := s.Why(); why != "" {
		plain(w, http.StatusServiceUnavailable, "not ready: "+why)
		return
	}
	plain(w, http.StatusOK, "ready")
}

func plain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body + "\n"))
}
