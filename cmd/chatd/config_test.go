package main

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/auth/httpauth"
	"github.com/chatd/chatd/auth/jwt"
	"github.com/chatd/chatd/auth/passwords"
	"github.com/chatd/chatd/auth/static"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/admin"
	"github.com/chatd/chatd/server/api"
	"github.com/chatd/chatd/server/bridge"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/cluster"
	"github.com/chatd/chatd/server/mailbox"
	"github.com/chatd/chatd/server/web"
	"github.com/chatd/chatd/server/webhook"
)

func TestDecodeEmptyIsDefault(t *testing.T) {
	commented, err := os.ReadFile("testdata/commented.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		doc  string
	}{
		{"empty", ""},
		{"blank lines", "\n\n  \n"},
		{"document marker", "---\n"},
		{"null document", "~\n"},
		{"empty mapping", "{}\n"},
		{"empty sections", "server:\nlog:\n"},
		{"comments only", "# nothing set\n"},
		{"commented-out file", string(commented)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeConfig(strings.NewReader(tc.doc))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if want := DefaultConfig(); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDecodePartialKeepsDefaults(t *testing.T) {
	got, err := LoadConfig("testdata/partial.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := DefaultConfig()
	want.Server.Listen = ":8080"
	want.Server.Limits.MaxMessageBytes = 4096
	want.Log.Format = "json"
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

// TestDecodeEveryKey decodes a file that sets every key to a non-default
// value, so a field with a wrong or missing yaml tag shows up here.
func TestDecodeEveryKey(t *testing.T) {
	got, err := LoadConfig("testdata/override.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	def := leaves(DefaultConfig())
	for i, l := range leaves(got) {
		if reflect.DeepEqual(l.value.Interface(), def[i].value.Interface()) {
			t.Errorf("%s still has its default %#v: missing from testdata/override.yaml or not decoded", l.path, l.value)
		}
	}
	want := Config{
		Server: server.Config{
			Listen:         "0.0.0.0:9090",
			AllowedOrigins: []string{"https://chat.example.com", "http://localhost:3000"},
			Echo:           false,
			EventLoops:     4,
			Connections: server.Connections{MaxTotal: 5000, MaxPerAddress: 50, MaxHandshakesPerAddress: 8,
				RatePerAddress: 2.5, BurstPerAddress: 5, MaxLingering: 16},
			Handshake: server.Handshake{Timeout: 2 * time.Second, MaxConcurrent: 16, MaxHeaderBytes: 4096},
			Limits: server.Limits{
				MaxMessageBytes:     1024,
				PartialFrameTimeout: time.Minute,
				WriteBudgetBytes:    65536,
				QueueSize:           8,
				ClosingReadBytes:    4096,
			},
			Keepalive:   server.Keepalive{PingInterval: 90 * time.Second, PongTimeout: 500 * time.Millisecond},
			Compression: server.Compression{Enabled: true, Level: 6, MinSize: 512},
			TLS: server.TLS{CertFile: "/etc/chatd/tls/cert.pem", KeyFile: "/etc/chatd/tls/key.pem", MinVersion: "1.3",
				ClientAuth: "require", ClientCAFile: "/etc/chatd/tls/clients.pem", ReloadInterval: time.Minute},
			CloseTimeout:    time.Second,
			ShutdownTimeout: 20 * time.Second,
		},
		Chat: chat.Config{
			Enabled: false,
			Login: chat.LoginConfig{MaxAttempts: 3, Timeout: 10 * time.Second, FailureDelay: 100 * time.Millisecond, MaxFailureDelay: time.Second,
				MaxMessages: 8, MaxBytes: 4096, AddressRate: 2.5, AddressBurst: 7, AccountFailures: 4, AccountWindow: 5 * time.Minute, AccountFailuresTotal: 9},
			Rooms: chat.RoomsConfig{AutoJoin: []string{"hall", "news"}, MaxPerSession: 8, NamePattern: "^[a-z]{1,16}$",
				Presence: false, PresenceAutoJoin: true,
				PresenceInterval: 250 * time.Millisecond, PresenceMaxPending: 20, MaxRooms: 500, ListLimit: 50, WhoLimit: 200},
			Rate: chat.RateConfig{MessagesPerSecond: 5.5, Burst: 10, MaxRejected: 20, Window: 30 * time.Second},
			Mailbox: chat.MailboxConfig{
				Config: mailbox.Config{Dir: "/var/lib/chatd", MaxMessages: 50, MaxBytes: 1 << 20, MaxBytesPerSender: 1 << 16,
					MaxTotalBytes: 1 << 28, MaxAge: 24 * time.Hour, SeenMaxAge: 48 * time.Hour},
				Anonymous: true, PageMessages: 10, PageBytes: 65536, LiveBufferBytes: 1 << 19, QueueBytes: 1 << 24,
			},
			History: chat.HistoryConfig{Messages: 20, MaxAge: time.Hour, MaxBytes: 8192, Limit: 10, MaxTotalBytes: 65536, Durable: true, FlushInterval: 50 * time.Millisecond},
			Resume:  chat.ResumeConfig{TTL: 30 * time.Second, MaxClosed: 5},
		},
		Auth: AuthConfig{Backend: "static", AuthConfig: chat.AuthConfig{SessionsPerUser: 2, Workers: 8, Queue: 64},
			Static:    static.Config{Users: []string{"hlq", "alice"}},
			Passwords: passwords.Config{File: "/etc/chatd/passwords"},
			JWT: jwt.Config{Algorithm: "RS256", Secret: "s", SecretFile: "/etc/chatd/secret", PublicKeyFile: "/etc/chatd/key.pem",
				Issuer: "https://id.example.com", Audience: "chatd", Leeway: 5 * time.Second, MaxLifetime: 720 * time.Hour},
			HTTP: httpauth.Config{URL: "https://accounts.example.com/login", Timeout: 2 * time.Second},
		},
		Web: web.Config{Enabled: false},
		API: api.Config{Listen: "10.0.0.5:9090", Key: "0123456789abcdef0123", KeyFile: "/etc/chatd/api.key", Sender: "bot",
			MaxBodyBytes: 4096, PageLimit: 50, MaxInFlight: 8, MaxConnections: 16, SendTimeout: 2 * time.Second, ShutdownTimeout: time.Second},
		Webhooks: webhook.Config{URL: "https://backend.example.com/chatd/events", Secret: "hook-secret",
			SecretFile: "/etc/chatd/webhook.secret", Timeout: 2 * time.Second, BatchEvents: 10, BatchWait: 5 * time.Millisecond, QueueEvents: 500,
			QueueBytes: 65536, RetryMin: 100 * time.Millisecond, RetryMax: 30 * time.Second, Durable: true},
		Bridge: bridge.Config{
			Programs: []bridge.Program{
				{Path: "/stdio", Command: []string{"/usr/bin/python3", "-u", "/srv/ticker.py"}, Mode: "per_connection",
					Login: true, Binary: true, PassEnv: []string{"LANG", "TZ"}},
				{Path: "/room", Command: []string{"/srv/room"}, Mode: "shared"},
			},
			MaxProcesses: 100, MaxProcessesPerPath: 10, MaxLineBytes: 4096, StdinQueue: 8,
			StdinGrace: 100 * time.Millisecond, KillGrace: time.Second, RestartBackoff: 500 * time.Millisecond,
			MaxRestartBackoff: 10 * time.Second, LoginTimeout: 5 * time.Second, StderrLinesPerSecond: 5,
		},
		Log: LogConfig{Level: "debug", Format: "json"},
		Cluster: cluster.Config{Enabled: true, Node: "web-1", PresenceTTL: 30 * time.Second,
			NATS: cluster.NATSConfig{URLs: []string{"nats://10.0.0.5:4222", "tls://nats.example.com:4222"},
				Embedded: cluster.EmbeddedConfig{Enabled: true, Listen: "0.0.0.0:4223", ClusterListen: "0.0.0.0:6222",
					Routes: []string{"nats://10.0.0.5:6222", "nats://10.0.0.6:6222"}, StoreDir: "/var/lib/chatd/nats"},
				Replicas: 3}},
		Admin: admin.Config{Listen: "127.0.0.1:9091", Pprof: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestDecodeUnknownKey(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		line string
		key  string
	}{
		{"top level", "server: {}\nlogging:\n  level: info\n", "line 2", "logging"},
		{"in server", "server:\n  listen: \":80\"\n  lisen: \":81\"\n", "line 3", "lisen"},
		{"in limits", "server:\n  limits:\n    max_mesage_bytes: 1024\n", "line 3", "max_mesage_bytes"},
		{"in keepalive", "server:\n  keepalive:\n\n    ping: 5s\n", "line 4", "ping"},
		{"in wrong section", "log:\n  listen: \":80\"\n", "line 2", "listen"},
		{"camel case", "server:\n  ioWorkers: 2\n", "line 2", "ioWorkers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeConfig(strings.NewReader(tc.doc))
			wantErr(t, err, tc.line, "field "+tc.key+" not found")
		})
	}
}

func TestLoadNamesFile(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"testdata/unknown_key.yaml", []string{"line 4", "field max_mesage_bytes not found"}},
		{"testdata/int_duration.yaml", []string{"line 3", "`5`", "time.Duration"}},
		{"testdata/invalid.yaml", []string{"server.event_loops -1", "log.level \"verbose\""}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			_, err := LoadConfig(tc.file)
			wantErr(t, err, append([]string{"config " + tc.file + ": "}, tc.want...)...)
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := LoadConfig("testdata/no-such-file.yaml")
	wantErr(t, err, "no-such-file.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %q does not wrap os.ErrNotExist", err)
	}
}

func TestDecodeDurationNeedsUnit(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"integer", "server:\n  handshake:\n    timeout: 5\n", []string{"line 3", "`5`", "time.Duration"}},
		{"float", "server:\n  close_timeout: 1.5\n", []string{"line 2", "`1.5`", "time.Duration"}},
		{"unitless string", "server:\n  shutdown_timeout: \"10\"\n", []string{"line 2", "`10`", "time.Duration"}},
		{"unknown unit", "server:\n  keepalive:\n    pong_timeout: 5sec\n", []string{"line 3", "`5sec`", "time.Duration"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeConfig(strings.NewReader(tc.doc))
			wantErr(t, err, tc.want...)
		})
	}
}

func TestDecodeDurationStrings(t *testing.T) {
	got, err := DecodeConfig(strings.NewReader("server:\n  close_timeout: 250ms\n  shutdown_timeout: \"1m30s\"\n"))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got.Server.CloseTimeout != 250*time.Millisecond || got.Server.ShutdownTimeout != 90*time.Second {
		t.Fatalf("close_timeout %v, shutdown_timeout %v; want 250ms, 1m30s", got.Server.CloseTimeout, got.Server.ShutdownTimeout)
	}
}

func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"second document", "log:\n  level: debug\n---\nfoo: 1\n", []string{"line 3", "second YAML document"}},
		{"duplicate key", "log:\n  level: debug\n  level: info\n", []string{"line 3", "level"}},
		{"sequence at top", "- server\n", []string{"line 1", "!!seq"}},
		{"string for int", "server:\n  event_loops: many\n", []string{"line 2", "`many`"}},
		{"string for bool", "server:\n  echo: maybe\n", []string{"line 2", "`maybe`"}},
		{"scalar for list", "server:\n  allowed_origins: https://a.example\n", []string{"line 2", "[]string"}},
		{"syntax", "server:\n  listen: [\n", []string{"line"}},
		{"valid yaml, invalid value", "log:\n  level: verbose\n", []string{"log.level \"verbose\""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeConfig(strings.NewReader(tc.doc))
			wantErr(t, err, tc.want...)
		})
	}
}
