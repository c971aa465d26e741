package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/chatd/chatd/server/api"
	"github.com/chatd/chatd/server/web"
	"github.com/chatd/chatd/server/webhook"
)

// Config is the whole configuration file.
type Config struct {
	Server   Server         `yaml:"server"`
	Chat     Chat           `yaml:"chat"`
	Auth     Auth           `yaml:"auth"`
	Web      web.Config     `yaml:"web"`      // the chat page at /
	API      api.Config     `yaml:"api"`      // the HTTP API for backends, on its own address
	Webhooks webhook.Config `yaml:"webhooks"` // event webhooks; off unless webhooks.url is set
	Bridge   Bridge         `yaml:"bridge"`   // stdio programs served over WebSocket (package bridge)
	Log      Log            `yaml:"log"`
}

// Server configures the listener, the WebSocket read path and its limits.
type Server struct {
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

// Log configures the zap logger.
type Log struct {
	// Level is debug, info, warn or error. Default "info".
	Level string `yaml:"level"`
	// Format is console or json. Default "console".
	Format string `yaml:"format"`
}

// Default returns the built-in defaults. They equal configs/chatd.yaml.
func Default() Config {
	return Config{
		Server: Server{
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
			CloseTimeout:    3 * time.Second,
			ShutdownTimeout: 10 * time.Second,
		},
		Chat:     defaultChat(),
		Auth:     defaultAuth(),
		Web:      web.Default(),
		API:      api.Default(),
		Webhooks: webhook.Default(),
		Bridge:   DefaultBridge(),
		Log:      Log{Level: "info", Format: "console"},
	}
}

// Load reads and validates the file at path.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	cfg, err := Decode(f)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Decode reads YAML strictly on top of the defaults and validates the result.
// Keys missing from the document keep their default values.
func Decode(r io.Reader) (Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Config{}, fmt.Errorf("read: %w", err)
	}
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	switch err := dec.Decode(&cfg); {
	case errors.Is(err, io.EOF):
		// Empty, or only comments: keep the defaults.
	case err != nil:
		return Config{}, fmt.Errorf("decode: %w", err)
	default:
		// A second document would be ignored, unknown keys and all.
		var next yaml.Node
		switch err := dec.Decode(&next); {
		case errors.Is(err, io.EOF):
		case err != nil:
			return Config{}, fmt.Errorf("decode: %w", err)
		default:
			return Config{}, fmt.Errorf("decode: line %d: second YAML document; want exactly one", next.Line)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Loops returns the effective event loop count.
func (s Server) Loops() int {
	if s.EventLoops > 0 {
		return s.EventLoops
	}
	return runtime.GOMAXPROCS(0)
}

// Validate reports every invalid field, one per line.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	s := c.Server
	if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		add("server.listen %q: want host:port (%v)", s.Listen, err)
	} else if _, err := net.LookupPort("tcp", port); err != nil {
		add("server.listen %q: want a port from 0 to 65535 (%v)", s.Listen, err)
	}
	for i, o := range s.AllowedOrigins {
		if o == "" || strings.TrimSpace(o) != o {
			add("server.allowed_origins[%d] %q: want a non-empty origin such as https://chat.example.com", i, o)
		}
	}
	if s.EventLoops < 0 || s.EventLoops > 1024 {
		add("server.event_loops %d: want 0 (one per CPU) to 1024", s.EventLoops)
	}
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			add("%s %v: want a positive duration such as \"5s\"", name, d)
		}
	}
	positive("server.handshake.timeout", s.Handshake.Timeout)
	positive("server.limits.partial_frame_timeout", s.Limits.PartialFrameTimeout)
	positive("server.keepalive.ping_interval", s.Keepalive.PingInterval)
	positive("server.keepalive.pong_timeout", s.Keepalive.PongTimeout)
	positive("server.close_timeout", s.CloseTimeout)
	positive("server.shutdown_timeout", s.ShutdownTimeout)
	conn := s.Connections
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
	if s.Handshake.MaxConcurrent < 1 {
		add("server.handshake.max_concurrent %d: want at least 1", s.Handshake.MaxConcurrent)
	}
	if s.Handshake.MaxHeaderBytes < 256 || s.Handshake.MaxHeaderBytes > 1<<20 {
		add("server.handshake.max_header_bytes %d: want 256 to 1048576", s.Handshake.MaxHeaderBytes)
	}
	if s.Limits.MaxMessageBytes < 125 || s.Limits.MaxMessageBytes > 64<<20 {
		add("server.limits.max_message_bytes %d: want 125 to 67108864", s.Limits.MaxMessageBytes)
	}
	if s.Limits.WriteBudgetBytes < 4096 || s.Limits.WriteBudgetBytes < s.Limits.MaxMessageBytes+14 {
		add("server.limits.write_budget_bytes %d: want at least 4096 and at least max_message_bytes + 14 (one whole frame)", s.Limits.WriteBudgetBytes)
	}
	if s.Limits.QueueSize < 1 || s.Limits.QueueSize > 1<<16 {
		add("server.limits.queue_size %d: want 1 to 65536", s.Limits.QueueSize)
	}
	if s.Limits.ClosingReadBytes < 0 || s.Limits.ClosingReadBytes > 64<<20 {
		add("server.limits.closing_read_bytes %d: want 0 to 67108864", s.Limits.ClosingReadBytes)
	}
	c.Chat.validate(add)
	c.Auth.validate(add)
	if err := c.Web.Validate(); err != nil {
		add("%v", err)
	}
	if err := c.API.Validate(); err != nil {
		add("%v", err)
	}
	if c.API.Enabled() && c.API.MaxBodyBytes > int64(s.Limits.WriteBudgetBytes)/2 {
		// A message near the write budget would close its receivers as
		// slow consumers (4008): every member of a room at once.
		add("api.max_body_bytes %d: want at most half of server.limits.write_budget_bytes (%d)", c.API.MaxBodyBytes, s.Limits.WriteBudgetBytes/2)
	}
	if err := c.Webhooks.Validate(); err != nil {
		add("%v", err)
	}
	if err := c.Bridge.Validate(); err != nil {
		add("%v", err)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "console", "json":
	default:
		add("log.format %q: want console or json", c.Log.Format)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid config:\n%w", errors.Join(errs...))
	}
	return nil
}
