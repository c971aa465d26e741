package chat_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server/chat"
)

// TestDefaultConfigIsValid: the defaults, chat's and its share of auth:,
// pass their own validation.
func TestDefaultConfigIsValid(t *testing.T) {
	if err := chat.DefaultConfig().Validate(); err != nil {
		t.Errorf("chat.DefaultConfig: %v", err)
	}
	if err := chat.DefaultAuthConfig().Validate(); err != nil {
		t.Errorf("chat.DefaultAuthConfig: %v", err)
	}
}

// TestValidateHistory covers the chat.history bounds at and just past
// their limits.
func TestValidateHistory(t *testing.T) {
	cases := []validateCase[chat.HistoryConfig]{
		{"messages off", func(h *chat.HistoryConfig) { h.Messages = 0 }, ""},
		{"messages negative", func(h *chat.HistoryConfig) { h.Messages = -1 }, "chat.history.messages -1: want 0 (off) to 100000"},
		{"messages max", func(h *chat.HistoryConfig) { h.Messages = 100000 }, ""},
		{"messages too many", func(h *chat.HistoryConfig) { h.Messages = 100001 }, "chat.history.messages 100001"},

		{"max_age min", func(h *chat.HistoryConfig) { h.MaxAge = time.Second }, ""},
		{"max_age too small", func(h *chat.HistoryConfig) { h.MaxAge = time.Second - 1 }, "chat.history.max_age 999.999999ms: want at least 1s"},

		{"max_bytes min", func(h *chat.HistoryConfig) { h.MaxBytes = 1024 }, ""},
		{"max_bytes too small", func(h *chat.HistoryConfig) { h.MaxBytes = 1023 }, "chat.history.max_bytes 1023: want 1024 to 67108864"},
		{"max_bytes max", func(h *chat.HistoryConfig) { h.MaxBytes = 64 << 20 }, ""},
		{"max_bytes too big", func(h *chat.HistoryConfig) { h.MaxBytes = 64<<20 + 1 }, "chat.history.max_bytes 67108865"},

		{"limit zero", func(h *chat.HistoryConfig) { h.Limit = 0 }, "chat.history.limit 0: want 1 to 10000"},
		{"limit max", func(h *chat.HistoryConfig) { h.Limit = 10000 }, ""},
		{"limit too big", func(h *chat.HistoryConfig) { h.Limit = 10001 }, "chat.history.limit 10001"},

		{"flush_interval min", func(h *chat.HistoryConfig) { h.FlushInterval = time.Millisecond }, ""},
		{"flush_interval zero", func(h *chat.HistoryConfig) { h.FlushInterval = 0 }, `chat.history.flush_interval 0s: want "1ms" to "10s"`},
		{"flush_interval max", func(h *chat.HistoryConfig) { h.FlushInterval = 10 * time.Second }, ""},
		{"flush_interval too long", func(h *chat.HistoryConfig) { h.FlushInterval = 10*time.Second + 1 }, "chat.history.flush_interval 10.000000001s"},
	}
	checkValidate(t, cases, func(part func(*chat.HistoryConfig)) error {
		cfg := chat.DefaultConfig()
		part(&cfg.History)
		return cfg.Validate()
	})
}

// TestValidateRooms covers the chat.rooms bounds on presence and paging, at
// and just past their limits.
func TestValidateRooms(t *testing.T) {
	cases := []validateCase[chat.RoomsConfig]{
		{"presence_interval zero", func(r *chat.RoomsConfig) { r.PresenceInterval = 0 }, `chat.rooms.presence_interval 0s: want "1ms" to "1m"`},
		{"presence_interval too small", func(r *chat.RoomsConfig) { r.PresenceInterval = time.Millisecond - 1 }, "chat.rooms.presence_interval 999.999µs"},
		{"presence_interval min", func(r *chat.RoomsConfig) { r.PresenceInterval = time.Millisecond }, ""},
		{"presence_interval max", func(r *chat.RoomsConfig) { r.PresenceInterval = time.Minute }, ""},
		{"presence_interval too big", func(r *chat.RoomsConfig) { r.PresenceInterval = time.Minute + 1 }, "chat.rooms.presence_interval 1m0.000000001s"},

		{"presence_max_pending zero", func(r *chat.RoomsConfig) { r.PresenceMaxPending = 0 }, "chat.rooms.presence_max_pending 0: want 1 to 10000"},
		{"presence_max_pending min", func(r *chat.RoomsConfig) { r.PresenceMaxPending = 1 }, ""},
		{"presence_max_pending max", func(r *chat.RoomsConfig) { r.PresenceMaxPending = 10000 }, ""},
		{"presence_max_pending too big", func(r *chat.RoomsConfig) { r.PresenceMaxPending = 10001 }, "chat.rooms.presence_max_pending 10001"},

		{"max_rooms zero", func(r *chat.RoomsConfig) { r.MaxRooms = 0 }, "chat.rooms.max_rooms 0: want 1 to 100000"},
		{"max_rooms min", func(r *chat.RoomsConfig) { r.MaxRooms = 1 }, ""},
		{"max_rooms max", func(r *chat.RoomsConfig) { r.MaxRooms = 100000 }, ""},
		{"max_rooms too big", func(r *chat.RoomsConfig) { r.MaxRooms = 100001 }, "chat.rooms.max_rooms 100001"},

		{"list_limit zero", func(r *chat.RoomsConfig) { r.ListLimit = 0 }, "chat.rooms.list_limit 0: want 1 to 1000"},
		{"list_limit min", func(r *chat.RoomsConfig) { r.ListLimit = 1 }, ""},
		{"list_limit max", func(r *chat.RoomsConfig) { r.ListLimit = 1000 }, ""},
		{"list_limit too big", func(r *chat.RoomsConfig) { r.ListLimit = 1001 }, "chat.rooms.list_limit 1001"},

		{"who_limit zero", func(r *chat.RoomsConfig) { r.WhoLimit = 0 }, "chat.rooms.who_limit 0: want 1 to 10000"},
		{"who_limit min", func(r *chat.RoomsConfig) { r.WhoLimit = 1 }, ""},
		{"who_limit max", func(r *chat.RoomsConfig) { r.WhoLimit = 10000 }, ""},
		{"who_limit too big", func(r *chat.RoomsConfig) { r.WhoLimit = 10001 }, "chat.rooms.who_limit 10001"},
	}
	checkValidate(t, cases, func(part func(*chat.RoomsConfig)) error {
		cfg := chat.DefaultConfig()
		part(&cfg.Rooms)
		return cfg.Validate()
	})
}

// TestValidateAuth covers the auth pool's keys at and just past their
// limits.
func TestValidateAuth(t *testing.T) {
	cases := []validateCase[chat.AuthConfig]{
		{"sessions_per_user zero", func(a *chat.AuthConfig) { a.SessionsPerUser = 0 }, "auth.sessions_per_user 0: want 1 to 1000"},
		{"sessions_per_user max", func(a *chat.AuthConfig) { a.SessionsPerUser = 1000 }, ""},
		{"sessions_per_user too many", func(a *chat.AuthConfig) { a.SessionsPerUser = 1001 }, "auth.sessions_per_user 1001"},
		{"workers zero", func(a *chat.AuthConfig) { a.Workers = 0 }, "auth.workers 0: want 1 to 1024"},
		{"workers max", func(a *chat.AuthConfig) { a.Workers = 1024 }, ""},
		{"workers too many", func(a *chat.AuthConfig) { a.Workers = 1025 }, "auth.workers 1025"},
		{"queue zero", func(a *chat.AuthConfig) { a.Queue = 0 }, "auth.queue 0: want at least 1"},
		{"queue one", func(a *chat.AuthConfig) { a.Queue = 1 }, ""},
	}
	checkValidate(t, cases, func(part func(*chat.AuthConfig)) error {
		cfg := chat.DefaultAuthConfig()
		part(&cfg)
		return cfg.Validate()
	})
}

// wantOneError fails tb unless err is exactly one line that mentions want.
// validateCase is one config change and the one error it must cause ("":
// none).
type validateCase[T any] struct {
	name   string
	modify func(*T)
	want   string
}

// checkValidate runs each case: validate applies the case's change to a
// default config and validates it.
func checkValidate[T any](t *testing.T, cases []validateCase[T], validate func(func(*T)) error) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validate(tc.modify)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			wantOneError(t, err, tc.want)
		})
	}
}

func wantOneError(tb testing.TB, err error, want string) {
	tb.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		tb.Fatalf("Validate: %v, want %q", err, want)
	}
	if n := strings.Count(err.Error(), "\n"); n != 0 {
		tb.Errorf("want exactly one error line, got %d more in %q", n, err)
	}
}
