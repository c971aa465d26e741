package server

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"time"

	"github.com/chatd/chatd/server/internal/deflate"
)

// Config is the server: section of chatd's configuration: the listener,
// the WebSocket read path and its limits. Each field documents its default
// (DefaultConfig); Validate names a bad one by its YAML key path.
type Config struct {
	// Listen is the TCP address to listen on. Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// AllowedOrigins is the Origin allow-list for WebSocket handshakes. Empty
	// accepts any origin. Requests without an Origin header are accepted.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// Echo serves the /echo endpoint. Default true.
	Echo bool `yaml:"echo"`
	// EventLoops is the number of event loops: each owns a share of the
	// connections and runs everything of theirs (reads, their actors,
	// writes) on one goroutine. 0 means one per CPU. Default 0.
	EventLoops int `yaml:"event_loops"`

	Connections Connections `yaml:"connections"`
	Handshake   Handshake   `yaml:"handshake"`
	Limits      Limits      `yaml:"limits"`
	Keepalive   Keepalive   `yaml:"keepalive"`
	Compression Compression `yaml:"compression"`
	TLS         TLS         `yaml:"tls"`

	// CloseTimeout bounds the wait for the peer's close frame (or EOF) after
	// the server sent its own close frame, and how long an answered HTTP
	// request (an error, a refusal, /healthz) may linger half-closed while
	// the client reads the answer. Default "3s".
	CloseTimeout time.Duration `yaml:"close_timeout"`
	// ShutdownTimeout bounds graceful shutdown: after close 1001 is sent to
	// every connection, chatd waits this long for them to finish. Default "10s".
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Connections limits the connections chatd holds, in all and per client
// address, and how fast one address may open them. An address is an IPv4
// address, or the /64 prefix of an IPv6 address (one IPv6 host usually
// holds a whole /64). A connection over a limit is answered with HTTP 503
// (the server is full) or 429 (this address is over its share) and closed.
type Connections struct {
	// MaxTotal caps open connections, handshakes included. Default 100000.
	MaxTotal int `yaml:"max_total"`
	// MaxPerAddress caps open connections from one address, handshakes
	// included. Default 1000.
	MaxPerAddress int `yaml:"max_per_address"`
	// MaxHandshakesPerAddress caps handshakes in progress from one address.
	// Default 64.
	MaxHandshakesPerAddress int `yaml:"max_handshakes_per_address"`
	// RatePerAddress is the sustained rate of new connections one address
	// may open, per second (a token bucket). Default 100.
	RatePerAddress float64 `yaml:"rate_per_address"`
	// BurstPerAddress is the bucket size: new connections one address may
	// open at once before RatePerAddress applies. Default 200.
	BurstPerAddress int `yaml:"burst_per_address"`
	// MaxLingering caps answered sockets that are half-closed and waiting
	// for the client to read the answer and hang up (see CloseTimeout).
	// Past it the oldest is closed at once. Default 1024.
	MaxLingering int `yaml:"max_lingering"`
}

// Handshake limits the HTTP upgrade phase.
type Handshake struct {
	// Timeout is the deadline for a complete handshake. Default "10s".
	Timeout time.Duration `yaml:"timeout"`
	// MaxConcurrent caps handshakes in progress; a connection past it is
	// answered 503 and closed. Default 1024.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxHeaderBytes caps the request line plus headers. Default 8192.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
}

// Limits bounds what one connection may cost.
type Limits struct {
	// MaxMessageBytes is the largest message (all fragments together).
	// A bigger one is closed with 1009. Default 65536.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// PartialFrameTimeout closes a connection whose frame, or fragmented
	// message, stays incomplete this long, counted from its first byte
	// (4002). Default "30s".
	PartialFrameTimeout time.Duration `yaml:"partial_frame_timeout"`
	// WriteBudgetBytes is the most outbound data a connection may have
	// pending; past it the connection is closed as a slow consumer (4008).
	// Default 1048576.
	WriteBudgetBytes int `yaml:"write_budget_bytes"`
	// QueueSize is the number of events a connection's actor queues
	// (inbound messages fill at most half of it; values other goroutines
	// post to the connection, the rest). Default 256.
	QueueSize int `yaml:"queue_size"`
	// ClosingReadBytes is the most a connection may send once chatd has
	// decided to close it (sent a close frame, or an HTTP answer); past it
	// the socket is closed at once. Default 65536.
	ClosingReadBytes int `yaml:"closing_read_bytes"`
}

// Keepalive configures server pings.
type Keepalive struct {
	// PingInterval: a connection silent this long gets a ping. Default "30s".
	PingInterval time.Duration `yaml:"ping_interval"`
	// PongTimeout: a connection still silent this long after the ping is
	// closed as dead. Default "15s".
	PongTimeout time.Duration `yaml:"pong_timeout"`
}

// Compression configures permessage-deflate (RFC 7692). When enabled, a
// client that offers it (every browser does) gets it; chatd always answers
// with server_no_context_takeover and client_no_context_takeover, so no
// connection keeps compression state between messages, and honours every
// window size an offer may ask for (8 to 15 bits).
type Compression struct {
	// Enabled negotiates permessage-deflate with clients that offer it.
	// Default false: for chat-sized messages it costs more server CPU per
	// message than it saves bytes (docs/BENCHMARKS.md, "Issue 12:
	// permessage-deflate").
	Enabled bool `yaml:"enabled"`
	// Level is the compression level, 1 (fastest) to 9 (smallest), for
	// the default 32 KiB window; smaller windows use one fixed setting.
	// Default 3: levels 1 and 2 send messages under about 500 bytes
	// uncompressed, 3 is the cheapest level that compresses them.
	Level int `yaml:"level"`
	// MinSize: messages shorter than this many bytes are sent
	// uncompressed (below it compression saves a few dozen bytes at best,
	// for the full CPU cost). Default 256. Allowed 0 to 67108864.
	MinSize int `yaml:"min_size"`
}

// DefaultConfig returns the built-in defaults, those of configs/chatd.yaml's
// server: section.
func DefaultConfig() Config {
	return Config{
		Listen:         "127.0.0.1:8080",
		AllowedOrigins: []string{},
		Echo:           true,
		EventLoops:     0,
		Connections: Connections{
			MaxTotal:                100000,
			MaxPerAddress:           1000,
			MaxHandshakesPerAddress: 64,
			RatePerAddress:          100,
			BurstPerAddress:         200,
			MaxLingering:            1024,
		},
		Handshake: Handshake{
			Timeout:        10 * time.Second,
			MaxConcurrent:  1024,
			MaxHeaderBytes: 8192,
		},
		Limits: Limits{
			MaxMessageBytes:     64 << 10,
			PartialFrameTimeout: 30 * time.Second,
			WriteBudgetBytes:    1 << 20,
			QueueSize:           256,
			ClosingReadBytes:    64 << 10,
		},
		Keepalive: Keepalive{
			PingInterval: 30 * time.Second,
			PongTimeout:  15 * time.Second,
		},
		Compression: Compression{
			Enabled: false,
			Level:   3,
			MinSize: 256,
		},
		TLS:             DefaultTLS(),
		CloseTimeout:    3 * time.Second,
		ShutdownTimeout: 10 * time.Second,
	}
}

// Loops returns the effective event loop count.
func (c Config) Loops() int {
	if c.EventLoops > 0 {
		return c.EventLoops
	}
	return runtime.GOMAXPROCS(0)
}

// Validate reports every invalid field, one per line, named by its YAML key
// path (server.…).
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		add("server.listen %q: want host:port (%v)", c.Listen, err)
	} else if _, err := net.LookupPort("tcp", port); err != nil {
		add("server.listen %q: want a port from 0 to 65535 (%v)", c.Listen, err)
	}
	for i, o := range c.AllowedOrigins {
		if o == "" || strings.TrimSpace(o) != o {
			add("server.allowed_origins[%d] %q: want a non-empty origin such as https://chat.example.com", i, o)
		}
	}
	if c.EventLoops < 0 || c.EventLoops > 1024 {
		add("server.event_loops %d: want 0 (one per CPU) to 1024", c.EventLoops)
	}
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			add("%s %v: want a positive duration such as \"5s\"", name, d)
		}
	}
	positive("server.handshake.timeout", c.Handshake.Timeout)
	positive("server.limits.partial_frame_timeout", c.Limits.PartialFrameTimeout)
	positive("server.keepalive.ping_interval", c.Keepalive.PingInterval)
	positive("server.keepalive.pong_timeout", c.Keepalive.PongTimeout)
	positive("server.close_timeout", c.CloseTimeout)
	positive("server.shutdown_timeout", c.ShutdownTimeout)
	conn := c.Connections
	if conn.MaxTotal < 1 || conn.MaxTotal > 10_000_000 {
		add("server.connections.max_total %d: want 1 to 10000000", conn.MaxTotal)
	}
	if conn.MaxPerAddress < 1 || conn.MaxPerAddress > 10_000_000 {
		add("server.connections.max_per_address %d: want 1 to 10000000", conn.MaxPerAddress)
	}
	if conn.MaxHandshakesPerAddress < 1 || conn.MaxHandshakesPerAddress > 10_000_000 {
		add("server.connections.max_handshakes_per_address %d: want 1 to 10000000", conn.MaxHandshakesPerAddress)
	}
	if !(conn.RatePerAddress >= 0.001 && conn.RatePerAddress <= 1e9) { // also rejects NaN
		add("server.connections.rate_per_address %v: want 0.001 to 1000000000 (new connections per second)", conn.RatePerAddress)
	}
	if conn.BurstPerAddress < 1 || conn.BurstPerAddress > 1_000_000_000 {
		add("server.connections.burst_per_address %d: want 1 to 1000000000", conn.BurstPerAddress)
	}
	if conn.MaxLingering < 0 || conn.MaxLingering > 1_000_000 {
		add("server.connections.max_lingering %d: want 0 to 1000000", conn.MaxLingering)
	}
	if c.Handshake.MaxConcurrent < 1 {
		add("server.handshake.max_concurrent %d: want at least 1", c.Handshake.MaxConcurrent)
	}
	if c.Handshake.MaxHeaderBytes < 256 || c.Handshake.MaxHeaderBytes > 1<<20 {
		add("server.handshake.max_header_bytes %d: want 256 to 1048576", c.Handshake.MaxHeaderBytes)
	}
	if c.Limits.MaxMessageBytes < 125 || c.Limits.MaxMessageBytes > 64<<20 {
		add("server.limits.max_message_bytes %d: want 125 to 67108864", c.Limits.MaxMessageBytes)
	}
	if c.Limits.WriteBudgetBytes < 4096 || c.Limits.WriteBudgetBytes < c.Limits.MaxMessageBytes+14 {
		add("server.limits.write_budget_bytes %d: want at least 4096 and at least max_message_bytes + 14 (one whole frame)", c.Limits.WriteBudgetBytes)
	}
	if c.Limits.QueueSize < 1 || c.Limits.QueueSize > 1<<16 {
		add("server.limits.queue_size %d: want 1 to 65536", c.Limits.QueueSize)
	}
	if c.Limits.ClosingReadBytes < 0 || c.Limits.ClosingReadBytes > 64<<20 {
		add("server.limits.closing_read_bytes %d: want 0 to 67108864", c.Limits.ClosingReadBytes)
	}
	if c.Compression.Level < deflate.MinLevel || c.Compression.Level > deflate.MaxLevel {
		add("server.compression.level %d: want %d (fastest) to %d (smallest)", c.Compression.Level, deflate.MinLevel, deflate.MaxLevel)
	}
	if c.Compression.MinSize < 0 || c.Compression.MinSize > 64<<20 {
		add("server.compression.min_size %d: want 0 to 67108864", c.Compression.MinSize)
	}
	errs = append(errs, c.TLS.validate()...)
	return errors.Join(errs...)
}
