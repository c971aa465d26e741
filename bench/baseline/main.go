package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// maxMessageBytes matches chatd's default server.limits.max_message_bytes.
const maxMessageBytes = 64 << 10

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen on `host:port`")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "baseline: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		log.Printf("baseline: %v", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. Hijacked WebSocket connections are not tracked
// by http.Server; they end with the process.
func run(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	// The zero Upgrader keeps buffer sizes at 0, so each connection reuses
	// the 4 KiB bufio buffers net/http already allocated: the library's
	// default and the common way it is deployed.
	mux.Handle("/echo", echoHandler{})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("baseline: listening on %s (gorilla/websocket, goroutine per connection)", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		if err := srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// echoHandler upgrades and echoes. ServeHTTP runs on the connection's own
// goroutine (net/http's) for the connection's whole life.
type echoHandler struct {
	upgrader websocket.Upgrader
}

func (h echoHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has already answered with an HTTP error
	}
	defer c.Close()
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
