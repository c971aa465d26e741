package main

import (
	"strings"
	"testing"
)

// validateCases covers the composition: one rule of each section (each
// owner's tests cover all of its rules, at and just past their limits), the
// auth selection, and the rules that span sections. want is a substring of
// the single error line, or "" for a valid config.
var validateCases = []struct {
	name   string
	modify func(c *Config)
	want   string
}{
	{"default", func(c *Config) {}, ""},

	{"server", func(c *Config) { c.Server.Limits.QueueSize = 0 }, "server.limits.queue_size 0: want 1 to 65536"},
	{"chat", func(c *Config) { c.Chat.History.Limit = 0 }, "chat.history.limit 0: want 1 to 10000"},
	{"chat's auth keys", func(c *Config) { c.Auth.Workers = 0 }, "auth.workers 0: want 1 to 1024"},
	{"webhooks", func(c *Config) { c.Webhooks.BatchEvents = 0 }, "webhooks.batch_events 0: want 1 to 10000"},
	{"bridge", func(c *Config) { c.Bridge.MaxProcesses = 0 }, "bridge.max_processes 0: want 1 to 100000"},

	{"auth.backend unknown", func(c *Config) { c.Auth.Backend = "ldap" }, `auth.backend "ldap": want one of [anonymous static passwords jwt http]`},
	{"auth.backend each", func(c *Config) { c.Auth.Backend = "passwords" }, ""},
	{"auth: the selected backend is checked", func(c *Config) { c.Auth.Backend = "static"; c.Auth.Static.Users = []string{"a b"} },
		`auth.static.users[0] "a b": name contains whitespace`},
	{"auth: the others are not", func(c *Config) { c.Auth.Static.Users = []string{"a b"}; c.Auth.JWT.Algorithm = "none" }, ""},
	{"auth: jwt selected", func(c *Config) { c.Auth.Backend = "jwt"; c.Auth.JWT.Algorithm = "none" }, `auth.jwt.algorithm "none"`},

	{"api off: body over the write budget", func(c *Config) { c.API.MaxBodyBytes = 64 << 20 }, ""},
	{"api on: body over half the write budget", func(c *Config) { c.API.Key = "0123456789abcdef"; c.API.MaxBodyBytes = 1<<19 + 1 },
		"api.max_body_bytes 524289: want at most half of server.limits.write_budget_bytes (524288)"},
	{"api on: body half the write budget", func(c *Config) { c.API.Key = "0123456789abcdef"; c.API.MaxBodyBytes = 1 << 19 }, ""},
	{"api bad sender", func(c *Config) { c.API.Sender = "a:b" }, `api.sender "a:b": name contains ':'`},

	{"log.level empty", func(c *Config) { c.Log.Level = "" }, `log.level "": want debug, info, warn or error`},
	{"log.level unknown", func(c *Config) { c.Log.Level = "trace" }, `log.level "trace"`},
	{"log.level upper case", func(c *Config) { c.Log.Level = "INFO" }, `log.level "INFO"`},
	{"log.level warn", func(c *Config) { c.Log.Level = "warn" }, ""},
	{"log.format unknown", func(c *Config) { c.Log.Format = "text" }, `log.format "text": want console or json`},
	{"log.format json", func(c *Config) { c.Log.Format = "json" }, ""},

	{"admin on", func(c *Config) { c.Admin.Listen = "127.0.0.1:9090"; c.Admin.Pprof = true }, ""},
	{"admin.listen bad", func(c *Config) { c.Admin.Listen = "9090" }, `admin.listen "9090": want host:port`},
	{"admin.listen is server.listen", func(c *Config) { c.Admin.Listen = c.Server.Listen },
		`admin.listen "127.0.0.1:8080": same address as server.listen "127.0.0.1:8080"`},
	{"admin.listen overlaps server.listen", func(c *Config) { c.Admin.Listen = ":8080" },
		`admin.listen ":8080": same address as server.listen "127.0.0.1:8080"`},
}

func TestValidate(t *testing.T) {
	for _, tc := range validateCases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.modify(&cfg)
			err := cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			wantErr(t, err, "invalid config:\n", tc.want)
			// One rule broken, one line reported.
			if lines := strings.Split(err.Error(), "\n"); len(lines) != 2 {
				t.Errorf("want exactly one error line, got %q", lines[1:])
			}
		})
	}
}

// TestValidateReportsEveryError: every broken rule of every section is
// reported, one per line, in the order of the file's sections.
func TestValidateReportsEveryError(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Server.EventLoops = -1
	cfg.Server.CloseTimeout = 0
	cfg.Chat.Rooms.MaxRooms = 0
	cfg.Auth.Backend = "ldap"
	cfg.Auth.Queue = 0
	cfg.API.Sender = "a:b"
	cfg.Webhooks.BatchEvents = 0
	cfg.Bridge.StdinQueue = 0
	cfg.Log.Format = "xml"
	err := cfg.Validate()
	want := []string{"server.event_loops -1", "server.close_timeout 0s", "chat.rooms.max_rooms 0", `auth.backend "ldap"`,
		"auth.queue 0", `api.sender "a:b"`, "webhooks.batch_events 0", "bridge.stdin_queue 0", `log.format "xml"`}
	wantErr(t, err, want...)
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want)+1 {
		t.Fatalf("want %d error lines, got %d in %q", len(want), len(lines)-1, err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i+1], w) {
			t.Errorf("line %d is %q, want it to start with %q", i+1, lines[i+1], w)
		}
	}
}
