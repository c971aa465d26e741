package config

import (
	"strings"
	"testing"
	"time"
)

// TestValidateHistory covers the chat.history bounds at and just past
// their limits.
func TestValidateHistory(t *testing.T) {
	cases := []struct {
		name   string
		modify func(h *ChatHistory)
		want   string
	}{
		{"messages off", func(h *ChatHistory) { h.Messages = 0 }, ""},
		{"messages negative", func(h *ChatHistory) { h.Messages = -1 }, "chat.history.messages -1: want 0 (off) to 100000"},
		{"messages max", func(h *ChatHistory) { h.Messages = 100000 }, ""},
		{"messages too many", func(h *ChatHistory) { h.Messages = 100001 }, "chat.history.messages 100001"},

		{"max_age min", func(h *ChatHistory) { h.MaxAge = time.Second }, ""},
		{"max_age too small", func(h *ChatHistory) { h.MaxAge = time.Second - 1 }, "chat.history.max_age 999.999999ms: want at least 1s"},

		{"max_bytes min", func(h *ChatHistory) { h.MaxBytes = 1024 }, ""},
		{"max_bytes too small", func(h *ChatHistory) { h.MaxBytes = 1023 }, "chat.history.max_bytes 1023: want 1024 to 67108864"},
		{"max_bytes max", func(h *ChatHistory) { h.MaxBytes = 64 << 20 }, ""},
		{"max_bytes too big", func(h *ChatHistory) { h.MaxBytes = 64<<20 + 1 }, "chat.history.max_bytes 67108865"},

		{"limit zero", func(h *ChatHistory) { h.Limit = 0 }, "chat.history.limit 0: want 1 to 10000"},
		{"limit max", func(h *ChatHistory) { h.Limit = 10000 }, ""},
		{"limit too big", func(h *ChatHistory) { h.Limit = 10001 }, "chat.history.limit 10001"},

		{"flush_interval min", func(h *ChatHistory) { h.FlushInterval = time.Millisecond }, ""},
		{"flush_interval zero", func(h *ChatHistory) { h.FlushInterval = 0 }, `chat.history.flush_interval 0s: want "1ms" to "10s"`},
		{"flush_interval max", func(h *ChatHistory) { h.FlushInterval = 10 * time.Second }, ""},
		{"flush_interval too long", func(h *ChatHistory) { h.FlushInterval = 10*time.Second + 1 }, "chat.history.flush_interval 10.000000001s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			tc.modify(&cfg.Chat.History)
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
		})
	}
}
