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
)

// Config is the whole configuration file.
type Config struct {
	Server Server `yaml:"server"`
	Chat   Chat   `yaml:"chat"`
	Auth   Auth   `yaml:"auth"`
	Log    Log    `yaml:"log"`
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
	// IOWorkers is the number of goroutines that read sockets when epoll
	// reports them readable. 0 means one per CPU. Default 0.
	IOWorkers int `yaml:"io_workers"`

	Handshake Handshake `yaml:"handshake"`
	Limits    Limits    `yaml:"limits"`
	Keepalive Keepalive `yaml:"keepalive"`

	// CloseTimeout bounds the wait for the peer's close frame (or EOF) after
	// the server sent its own close frame. Default "3s".
	CloseTimeout time.Duration `yaml:"close_timeout"`
	// ShutdownTimeout bounds graceful shutdown: after close 1001 is sent to
	// every connection, chatd waits this long for them to finish. Default "10s".
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Handshake limits the HTTP upgrade phase.
type Handshake struct {
	// Timeout is the deadline for a complete handshake. Default "10s".
	Timeout time.Duration `yaml:"timeout"`
	// MaxConcurrent caps handshakes in progress; further connections wait
	// in the kernel's accept queue. Default 1024.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxHeaderBytes caps the request line plus headers. Default 8192.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
}

// Limits bounds what one connection may cost.
type Limits struct {
	// MaxMessageBytes is the largest message (all fragments together).
	// A bigger one is closed with 1009. Default 65536.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// PartialFrameTimeout closes a connection whose frame stays incomplete
	// this long. Default "30s".
	PartialFrameTimeout time.Duration `yaml:"partial_frame_timeout"`
	// WriteBudgetBytes is the most outbound data a connection may have
	// pending; past it the connection is closed as a slow consumer (4008).
	// Default 1048576.
	WriteBudgetBytes int `yaml:"write_budget_bytes"`
	// MailboxSize is the number of inbound messages queued per connection
	// before the server stops reading its socket. Default 256.
	MailboxSize int `yaml:"mailbox_size"`
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
			IOWorkers:      0,
			Handshake: Handshake{
				Timeout:        10 * time.Second,
				MaxConcurrent:  1024,
				MaxHeaderBytes: 8192,
			},
			Limits: Limits{
				MaxMessageBytes:     64 << 10,
				PartialFrameTimeout: 30 * time.Second,
				WriteBudgetBytes:    1 << 20,
				MailboxSize:         256,
			},
			Keepalive: Keepalive{
				PingInterval: 30 * time.Second,
				PongTimeout:  15 * time.Second,
			},
			CloseTimeout:    3 * time.Second,
			ShutdownTimeout: 10 * time.Second,
		},
		Chat: defaultChat(),
		Auth: defaultAuth(),
		Log:  Log{Level: "info", Format: "console"},
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

// Workers returns the effective I/O worker count.
func (s Server) Workers() int {
	if s.IOWorkers > 0 {
		return s.IOWorkers
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
	if s.IOWorkers < 0 || s.IOWorkers > 1024 {
		add("server.io_workers %d: want 0 (one per CPU) to 1024", s.IOWorkers)
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
	if s.Limits.MailboxSize < 1 || s.Limits.MailboxSize > 1<<16 {
		add("server.limits.mailbox_size %d: want 1 to 65536", s.Limits.MailboxSize)
	}
	c.Chat.validate(add)
	c.Auth.validate(add)
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
