package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// Server is the API's HTTP server on api.listen. Start it once; Shutdown
// stops it. It is safe for concurrent use.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	log  *zap.Logger
	done chan struct{} // closed when Serve returned
}

// Option configures Listen.
type Option func(*Server)

// WithTLS serves HTTPS with c (cmd/chatd passes server.tls's config, so
// the API follows its certificate reloads).
func WithTLS(c *tls.Config) Option {
	return func(s *Server) { s.srv.TLSConfig = c }
}

// Listen binds api.listen and returns a Server that serves h once Start is
// called.
func Listen(cfg Config, h http.Handler, log *zap.Logger, opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("api.listen: %w", err)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			// A client that does not read its answers (pipelined
			// requests, a full send queue) is cut off, not held.
			WriteTimeout: cfg.SendTimeout + 30*time.Second,
			IdleTimeout:  60 * time.Second,
			// "OPTIONS *" goes to the handler too: 401 or 405, in JSON.
			DisableGeneralOptionsHandler: true,
			MaxHeaderBytes:               16 << 10,
			ErrorLog:                     zap.NewStdLog(log),
		},
		ln:   newLimitListener(ln, cfg.MaxConnections),
		log:  log,
		done: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Addr is the address the API listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Start serves in a goroutine until Shutdown.
func (s *Server) Start() {
	go func() {
		defer close(s.done)
		serve := s.srv.Serve
		if s.srv.TLSConfig != nil {
			serve = func(ln net.Listener) error { return s.srv.ServeTLS(ln, "", "") }
		}
		if err := serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api server failed", zap.Error(err))
		}
	}()
}

// Shutdown stops accepting, waits for requests in flight until ctx ends,
// then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("api: %w", err), s.srv.Close())
	}
	select {
	case <-s.done:
	case <-ctx.Done():
	}
	return err
}
