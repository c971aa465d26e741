package server_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
)

// configCases covers every rule of server.Config.Validate, at and just past
// its limits. want is a substring of the single error line, or "" for a
// valid config.
var configCases = []struct {
	name   string
	modify func(c *server.Config)
	want   string
}{
	{"default", func(c *server.Config) {}, ""},

	{"tls on", func(c *server.Config) { c.TLS.CertFile, c.TLS.KeyFile = "c.pem", "k.pem" }, ""},
	{"tls cert without key", func(c *server.Config) { c.TLS.CertFile = "c.pem" }, `server.tls: cert_file "c.pem" and key_file "": set both`},
	{"tls key without cert", func(c *server.Config) { c.TLS.KeyFile = "k.pem" }, `server.tls: cert_file "" and key_file "k.pem": set both`},
	{"tls min_version 1.1", func(c *server.Config) { c.TLS.MinVersion = "1.1" }, `server.tls.min_version "1.1": want "1.2" or "1.3"`},
	{"tls min_version 1.0", func(c *server.Config) { c.TLS.MinVersion = "1.0" }, `server.tls.min_version "1.0"`},
	{"tls min_version empty", func(c *server.Config) { c.TLS.MinVersion = "" }, `server.tls.min_version ""`},
	{"tls min_version 1.3", func(c *server.Config) { c.TLS.MinVersion = "1.3" }, ""},
	{"tls client_auth unknown", func(c *server.Config) { c.TLS.ClientAuth = "optional" }, `server.tls.client_auth "optional": want none, request or require`},
	{"tls client_auth without ca", func(c *server.Config) {
		c.TLS.CertFile, c.TLS.KeyFile, c.TLS.ClientAuth = "c.pem", "k.pem", "require"
	}, `server.tls.client_ca_file: required with client_auth "require"`},
	{"tls client ca unused", func(c *server.Config) {
		c.TLS.CertFile, c.TLS.KeyFile, c.TLS.ClientCAFile = "c.pem", "k.pem", "ca.pem"
	}, `server.tls.client_ca_file "ca.pem": set client_auth`},
	{"tls client_auth with tls off", func(c *server.Config) { c.TLS.ClientAuth, c.TLS.ClientCAFile = "request", "ca.pem" }, `server.tls.client_auth "request": needs TLS on`},
	{"tls client_auth request", func(c *server.Config) {
		c.TLS.CertFile, c.TLS.KeyFile, c.TLS.ClientAuth, c.TLS.ClientCAFile = "c.pem", "k.pem", "request", "ca.pem"
	}, ""},
	{"tls reload_interval zero", func(c *server.Config) { c.TLS.ReloadInterval = 0 }, `server.tls.reload_interval 0s: want at least "100ms"`},

	{"listen without port", func(c *server.Config) { c.Listen = "localhost" }, `server.listen "localhost": want host:port`},
	{"listen empty", func(c *server.Config) { c.Listen = "" }, `server.listen "": want host:port`},
	{"listen port too big", func(c *server.Config) { c.Listen = "127.0.0.1:65536" }, `server.listen "127.0.0.1:65536": want a port from 0 to 65535`},
	{"listen port negative", func(c *server.Config) { c.Listen = "127.0.0.1:-1" }, `server.listen "127.0.0.1:-1": want a port`},
	{"listen all interfaces", func(c *server.Config) { c.Listen = ":8080" }, ""},
	{"listen any port", func(c *server.Config) { c.Listen = "127.0.0.1:0" }, ""},
	{"listen ipv6", func(c *server.Config) { c.Listen = "[::1]:65535" }, ""},

	{"origin empty", func(c *server.Config) { c.AllowedOrigins = []string{""} }, `server.allowed_origins[0] "": want a non-empty origin`},
	{"origin padded", func(c *server.Config) { c.AllowedOrigins = []string{"https://a.example", " https://b.example"} }, `server.allowed_origins[1] " https://b.example"`},
	{"origins ok", func(c *server.Config) { c.AllowedOrigins = []string{"https://a.example", "http://localhost:3000"} }, ""},

	{"event_loops negative", func(c *server.Config) { c.EventLoops = -1 }, "server.event_loops -1: want 0 (one per CPU) to 1024"},
	{"event_loops too many", func(c *server.Config) { c.EventLoops = 1025 }, "server.event_loops 1025"},
	{"event_loops max", func(c *server.Config) { c.EventLoops = 1024 }, ""},

	{"handshake.timeout zero", func(c *server.Config) { c.Handshake.Timeout = 0 }, `server.handshake.timeout 0s: want a positive duration such as "5s"`},
	{"handshake.timeout negative", func(c *server.Config) { c.Handshake.Timeout = -time.Second }, "server.handshake.timeout -1s: want a positive duration"},
	{"partial_frame_timeout zero", func(c *server.Config) { c.Limits.PartialFrameTimeout = 0 }, "server.limits.partial_frame_timeout 0s: want a positive duration"},
	{"ping_interval zero", func(c *server.Config) { c.Keepalive.PingInterval = 0 }, "server.keepalive.ping_interval 0s: want a positive duration"},
	{"pong_timeout zero", func(c *server.Config) { c.Keepalive.PongTimeout = 0 }, "server.keepalive.pong_timeout 0s: want a positive duration"},
	{"close_timeout zero", func(c *server.Config) { c.CloseTimeout = 0 }, "server.close_timeout 0s: want a positive duration"},
	{"shutdown_timeout negative", func(c *server.Config) { c.ShutdownTimeout = -time.Millisecond }, "server.shutdown_timeout -1ms: want a positive duration"},
	{"durations tiny", func(c *server.Config) { c.CloseTimeout = time.Nanosecond }, ""},

	{"max_total zero", func(c *server.Config) { c.Connections.MaxTotal = 0 }, "server.connections.max_total 0: want 1 to 10000000"},
	{"max_total too big", func(c *server.Config) { c.Connections.MaxTotal = 10_000_001 }, "server.connections.max_total 10000001"},
	{"max_total one", func(c *server.Config) { c.Connections.MaxTotal = 1 }, ""},
	{"max_per_address zero", func(c *server.Config) { c.Connections.MaxPerAddress = 0 }, "server.connections.max_per_address 0: want 1 to 10000000"},
	{"max_per_address above max_total", func(c *server.Config) { c.Connections.MaxPerAddress = 1_000_000 }, ""},
	{"max_handshakes_per_address zero", func(c *server.Config) { c.Connections.MaxHandshakesPerAddress = 0 }, "server.connections.max_handshakes_per_address 0: want 1 to 10000000"},
	{"max_handshakes_per_address one", func(c *server.Config) { c.Connections.MaxHandshakesPerAddress = 1 }, ""},
	{"rate_per_address zero", func(c *server.Config) { c.Connections.RatePerAddress = 0 }, "server.connections.rate_per_address 0: want 0.001 to 1000000000 (new connections per second)"},
	{"rate_per_address negative", func(c *server.Config) { c.Connections.RatePerAddress = -1 }, "server.connections.rate_per_address -1"},
	{"rate_per_address NaN", func(c *server.Config) { c.Connections.RatePerAddress = math.NaN() }, "server.connections.rate_per_address NaN"},
	{"rate_per_address too big", func(c *server.Config) { c.Connections.RatePerAddress = 1e9 + 1 }, "server.connections.rate_per_address 1.000000001e+09"},
	{"rate_per_address fractional", func(c *server.Config) { c.Connections.RatePerAddress = 0.5 }, ""},
	{"rate_per_address min", func(c *server.Config) { c.Connections.RatePerAddress = 0.001 }, ""},
	{"burst_per_address zero", func(c *server.Config) { c.Connections.BurstPerAddress = 0 }, "server.connections.burst_per_address 0: want 1 to 1000000000"},
	{"burst_per_address one", func(c *server.Config) { c.Connections.BurstPerAddress = 1 }, ""},
	{"max_lingering negative", func(c *server.Config) { c.Connections.MaxLingering = -1 }, "server.connections.max_lingering -1: want 0 to 1000000"},
	{"max_lingering too big", func(c *server.Config) { c.Connections.MaxLingering = 1_000_001 }, "server.connections.max_lingering 1000001"},
	{"max_lingering zero", func(c *server.Config) { c.Connections.MaxLingering = 0 }, ""},

	{"max_concurrent zero", func(c *server.Config) { c.Handshake.MaxConcurrent = 0 }, "server.handshake.max_concurrent 0: want at least 1"},
	{"max_concurrent one", func(c *server.Config) { c.Handshake.MaxConcurrent = 1 }, ""},

	{"max_header_bytes too small", func(c *server.Config) { c.Handshake.MaxHeaderBytes = 255 }, "server.handshake.max_header_bytes 255: want 256 to 1048576"},
	{"max_header_bytes too big", func(c *server.Config) { c.Handshake.MaxHeaderBytes = 1<<20 + 1 }, "server.handshake.max_header_bytes 1048577"},
	{"max_header_bytes min", func(c *server.Config) { c.Handshake.MaxHeaderBytes = 256 }, ""},
	{"max_header_bytes max", func(c *server.Config) { c.Handshake.MaxHeaderBytes = 1 << 20 }, ""},

	{"max_message_bytes too small", func(c *server.Config) { c.Limits.MaxMessageBytes = 124 }, "server.limits.max_message_bytes 124: want 125 to 67108864"},
	{"max_message_bytes too big", func(c *server.Config) {
		c.Limits.MaxMessageBytes = 64<<20 + 1
		c.Limits.WriteBudgetBytes = 128 << 20
	}, "server.limits.max_message_bytes 67108865"},
	{"max_message_bytes min", func(c *server.Config) { c.Limits.MaxMessageBytes = 125 }, ""},
	{"max_message_bytes max", func(c *server.Config) {
		c.Limits.MaxMessageBytes = 64 << 20
		c.Limits.WriteBudgetBytes = 128 << 20
	}, ""},

	{"write_budget_bytes too small", func(c *server.Config) { c.Limits.WriteBudgetBytes = 4095; c.Limits.MaxMessageBytes = 125 }, "server.limits.write_budget_bytes 4095: want at least 4096"},
	{"write_budget_bytes min", func(c *server.Config) { c.Limits.WriteBudgetBytes = 4096; c.Limits.MaxMessageBytes = 125 }, ""},
	{"write_budget_bytes below one frame", func(c *server.Config) { c.Limits.WriteBudgetBytes = 65549 }, "server.limits.write_budget_bytes 65549: want at least 4096 and at least max_message_bytes + 14"},
	{"write_budget_bytes one frame", func(c *server.Config) { c.Limits.WriteBudgetBytes = 65550 }, ""},

	{"queue_size zero", func(c *server.Config) { c.Limits.QueueSize = 0 }, "server.limits.queue_size 0: want 1 to 65536"},
	{"queue_size too big", func(c *server.Config) { c.Limits.QueueSize = 1<<16 + 1 }, "server.limits.queue_size 65537"},
	{"queue_size max", func(c *server.Config) { c.Limits.QueueSize = 1 << 16 }, ""},

	{"closing_read_bytes negative", func(c *server.Config) { c.Limits.ClosingReadBytes = -1 }, "server.limits.closing_read_bytes -1: want 0 to 67108864"},
	{"closing_read_bytes too big", func(c *server.Config) { c.Limits.ClosingReadBytes = 64<<20 + 1 }, "server.limits.closing_read_bytes 67108865"},
	{"closing_read_bytes zero", func(c *server.Config) { c.Limits.ClosingReadBytes = 0 }, ""},

	{"compression.level zero", func(c *server.Config) { c.Compression.Level = 0 }, "server.compression.level 0: want 1 (fastest) to 9 (smallest)"},
	{"compression.level ten", func(c *server.Config) { c.Compression.Level = 10 }, "server.compression.level 10"},
	{"compression.level nine", func(c *server.Config) { c.Compression.Level = 9 }, ""},
	{"compression.min_size negative", func(c *server.Config) { c.Compression.MinSize = -1 }, "server.compression.min_size -1: want 0 to 67108864"},
	{"compression.min_size too big", func(c *server.Config) { c.Compression.MinSize = 64<<20 + 1 }, "server.compression.min_size 67108865"},
	{"compression.min_size zero", func(c *server.Config) { c.Compression.MinSize = 0 }, ""},
	{"compression off, level still checked", func(c *server.Config) { c.Compression.Enabled, c.Compression.Level = false, 0 }, "server.compression.level 0"},
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range configCases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := server.DefaultConfig()
			tc.modify(&cfg)
			err := cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
			// One rule broken, one line reported.
			if n := strings.Count(err.Error(), "\n"); n != 0 {
				t.Errorf("want exactly one error line, got %d more in %q", n, err)
			}
		})
	}
}

// TestConfigValidateReportsEveryError: every broken rule is reported, one
// per line, and New refuses the config with all of them.
func TestConfigValidateReportsEveryError(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.EventLoops = -1
	cfg.CloseTimeout = 0
	cfg.Limits.QueueSize = 0
	err := cfg.Validate()
	for _, want := range []string{"server.event_loops -1", "server.close_timeout 0s", "server.limits.queue_size 0: want 1 to 65536"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want %q", err, want)
		}
	}
	if n := strings.Count(err.Error(), "\n"); n != 2 {
		t.Errorf("want 3 error lines, got %d in %q", n+1, err)
	}
	if _, nerr := server.New(cfg, nil); nerr == nil || !strings.Contains(nerr.Error(), err.Error()) {
		t.Errorf("New: %v, want the errors of Validate", nerr)
	}
}
