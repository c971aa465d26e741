package testserver

import (
	"context"
	"net"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/chatd/chatd/server"
)

// Server is a running test server.
type Server struct {
	// Addr is host:port.
	Addr string
	// Srv is the server itself.
	Srv *server.Server
	// Logs holds every log entry at debug level and above.
	Logs *observer.ObservedLogs
}

// Start runs a server with server.DefaultConfig() modified by mutate (which
// may be nil) on a fresh loopback port. Cleanup shuts it down gracefully and
// fails the test if shutdown fails.
func Start(tb testing.TB, mutate func(*server.Config)) *Server {
	tb.Helper()
	return StartWith(tb, mutate, nil)
}

// StartWith is Start with extra endpoints served beside the built-in ones.
func StartWith(tb testing.TB, mutate func(*server.Config), endpoints map[string]server.Endpoint) *Server {
	tb.Helper()
	return StartSetup(tb, mutate, func(srv *server.Server) {
		for path, ep := range endpoints {
			srv.Handle(path, ep)
		}
	})
}

// StartSetup is Start with setup called on the server before it serves
// (to register endpoints, prefixes or files).
func StartSetup(tb testing.TB, mutate func(*server.Config), setup func(*server.Server)) *Server {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	if mutate != nil {
		mutate(&cfg)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	srv, err := server.New(cfg, zap.New(core))
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	if setup != nil {
		setup(srv)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return &Server{Addr: ln.Addr().String(), Srv: srv, Logs: logs}
}

// URL returns the ws:// URL of path.
func (s *Server) URL(path string) string { return "ws://" + s.Addr + path }

// CloseCodes returns the close codes of the "connection closed" log entries
// so far, in order.
func (s *Server) CloseCodes() []int { return s.codes("connection closed") }

// ClosingCodes returns the codes of the closes the server has started (sent
// a close frame or queued one), in order.
func (s *Server) ClosingCodes() []int { return s.codes("connection closing") }

func (s *Server) codes(msg string) []int {
	var codes []int
	for _, e := range s.Logs.FilterMessage(msg).All() {
		if v, ok := e.ContextMap()["code"]; ok {
			codes = append(codes, int(v.(int64)))
		}
	}
	return codes
}
