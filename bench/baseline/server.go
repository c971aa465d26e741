package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// maxMessageBytes matches chatd's default server.limits.max_message_bytes.
const maxMessageBytes = 64 << 10

// closeGrace bounds the close frames Shutdown writes, for all connections
// together.
const closeGrace = time.Second

// Server serves /echo and /ws. Its methods are safe for concurrent use.
// Every goroutine it starts, per connection and the hub, ends by Shutdown.
type Server struct {
	// upgrader is the zero Upgrader: buffer sizes 0 make each connection
	// reuse the 4 KiB bufio buffers net/http already allocated, the
	// library's default and the common way it is deployed.
	upgrader websocket.Upgrader
	http     *http.Server
	hub      *hub
	ids      atomic.Uint64 // last message id handed out

	mu      sync.Mutex                   // guards conns and closing
	conns   map[*websocket.Conn]struct{} // upgraded connections, until they end
	closing bool                         // Shutdown has begun: no new connections
	wg      sync.WaitGroup               // connection goroutines; Add only under mu with !closing
}

// New returns a Server whose hub is already running. Serve it with Serve;
// stop it with Shutdown, which is needed even if Serve was never called.
func New() *Server {
	s := &Server{hub: newHub(), conns: make(map[*websocket.Conn]struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", s.serveEcho)
	mux.HandleFunc("/ws", s.serveChat)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return s
}

// Serve accepts connections on ln until Shutdown, then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting, sends close 1001 to every WebSocket connection,
// closes them, waits until their goroutines have ended (or ctx is done),
// then stops the hub. It returns ctx's error if ctx ended first.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx) // the listener, and plain HTTP requests in flight
	s.mu.Lock()
	s.closing = true
	conns := make([]*websocket.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	for _, c := range conns {
		goingAway(c)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	s.hub.stop()
	return err
}

// goingAway sends close 1001, best effort, and closes c: as chatd does for
// every connection at shutdown, including one upgraded while it began.
func goingAway(c *websocket.Conn) {
	bye := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")
	c.WriteControl(websocket.CloseMessage, bye, time.Now().Add(closeGrace))
	c.Close()
}

// track records an upgraded connection, counting its goroutine in wg. It
// returns false once Shutdown has begun; the caller then closes c.
func (s *Server) track(c *websocket.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

// untrack forgets c, closes it, and ends what track counted.
func (s *Server) untrack(c *websocket.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// serveEcho upgrades and echoes every message, text or binary, unchanged.
// It runs on the connection's own net/http goroutine for the connection's
// whole life.
func (s *Server) serveEcho(w http.ResponseWriter, r *http.Request) {
	c, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has already answered with an HTTP error
	}
	if !s.track(c) {
		goingAway(c) // upgraded just as Shutdown began
		return
	}
	defer s.untrack(c)
	c.SetReadLimit(maxMessageBytes)
	for {
		op, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(op, msg); err != nil {
			return
		}
	}
}

// serveChat upgrades, starts the connection's write goroutine, and becomes
// its read goroutine (see client).
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	if !s.track(conn) {
		goingAway(conn) // upgraded just as Shutdown began
		return
	}
	defer s.untrack(conn)
	conn.SetReadLimit(maxMessageBytes)
	c := &client{srv: s, hub: s.hub, conn: conn, send: make(chan []byte, sendQueue)}
	s.wg.Go(c.writePump) // wg is above zero here: this connection is counted
	c.readPump()
}
