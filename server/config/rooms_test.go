package config

import (
	"strings"
	"testing"
	"time"
)

// TestValidateRooms covers the chat.rooms bounds on presence and paging, at
// and just past their limits.
func TestValidateRooms(t *testing.T) {
	cases := []struct {
		name   string
		modify func(r *ChatRooms)
		want   string
	}{
		{"presence_interval zero", func(r *ChatRooms) { r.PresenceInterval = 0 }, `chat.rooms.presence_interval 0s: want "1ms" to "1m"`},
		{"presence_interval too small", func(r *ChatRooms) { r.PresenceInterval = time.Millisecond - 1 }, "chat.rooms.presence_interval 999.999µs"},
		{"presence_interval min", func(r *ChatRooms) { r.PresenceInterval = time.Millisecond }, ""},
		{"presence_interval max", func(r *ChatRooms) { r.PresenceInterval = time.Minute }, ""},
		{"presence_interval too big", func(r *ChatRooms) { r.PresenceInterval = time.Minute + 1 }, "chat.rooms.presence_interval 1m0.000000001s"},

		{"presence_max_pending zero", func(r *ChatRooms) { r.PresenceMaxPending = 0 }, "chat.rooms.presence_max_pending 0: want 1 to 10000"},
		{"presence_max_pending min", func(r *ChatRooms) { r.PresenceMaxPending = 1 }, ""},
		{"presence_max_pending max", func(r *ChatRooms) { r.PresenceMaxPending = 10000 }, ""},
		{"presence_max_pending too big", func(r *ChatRooms) { r.PresenceMaxPending = 10001 }, "chat.rooms.presence_max_pending 10001"},

		{"max_rooms zero", func(r *ChatRooms) { r.MaxRooms = 0 }, "chat.rooms.max_rooms 0: want 1 to 100000"},
		{"max_rooms min", func(r *ChatRooms) { r.MaxRooms = 1 }, ""},
		{"max_rooms max", func(r *ChatRooms) { r.MaxRooms = 100000 }, ""},
		{"max_rooms too big", func(r *ChatRooms) { r.MaxRooms = 100001 }, "chat.rooms.max_rooms 100001"},

		{"list_limit zero", func(r *ChatRooms) { r.ListLimit = 0 }, "chat.rooms.list_limit 0: want 1 to 1000"},
		{"list_limit min", func(r *ChatRooms) { r.ListLimit = 1 }, ""},
		{"list_limit max", func(r *ChatRooms) { r.ListLimit = 1000 }, ""},
		{"list_limit too big", func(r *ChatRooms) { r.ListLimit = 1001 }, "chat.rooms.list_limit 1001"},

		{"who_limit zero", func(r *ChatRooms) { r.WhoLimit = 0 }, "chat.rooms.who_limit 0: want 1 to 10000"},
		{"who_limit min", func(r *ChatRooms) { r.WhoLimit = 1 }, ""},
		{"who_limit max", func(r *ChatRooms) { r.WhoLimit = 10000 }, ""},
		{"who_limit too big", func(r *ChatRooms) { r.WhoLimit = 10001 }, "chat.rooms.who_limit 10001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			tc.modify(&cfg.Chat.Rooms)
			err := cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			wantErr(t, err, "invalid config:\n", tc.want)
			if lines := strings.Split(err.Error(), "\n"); len(lines) != 2 {
				t.Errorf("want exactly one error line, got %q", lines[1:])
			}
		})
	}
}
