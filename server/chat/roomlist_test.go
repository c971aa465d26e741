package chat_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chatd/chatd/server/chat"
)

// TestRoomsPaging: rooms answers pages of at most list_limit rooms sorted by
// name; walking the cursor returns every room exactly once.
func TestRoomsPaging(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) {
		c.Rooms.MaxPerSession = 30
		c.Rooms.ListLimit = 7
		c.Rooms.Presence = false // only replies to read
	}})
	alice, bob, carol := e.login(t, "alice"), e.login(t, "bob"), e.login(t, "carol")
	want := []string{"lobby"}
	for i := 24; i >= 0; i-- {
		name := fmt.Sprintf("r%02d", i)
		join(alice, name)
		if i%3 == 0 {
			join(bob, name)
		}
		want = append(want, name)
	}
	slices.Sort(want)

	var got []string
	after, pages := "", 0
	for {
		req := map[string]any{"type": "rooms", "id": pages}
		if after != "" {
			req["after"] = after
		}
		carol.sendJSON(req)
		m := carol.expect(map[string]any{"type": "rooms", "ref": pages})
		pages++
		rooms := m["rooms"].([]any)
		if len(rooms) == 0 || len(rooms) > 7 {
			t.Fatalf("page %d has %d rooms: %v", pages, len(rooms), m)
		}
		for _, r := range rooms {
			r := r.(map[string]any)
			name := r["name"].(string)
			var n int
			members := 1
			switch _, err := fmt.Sscanf(name, "r%d", &n); {
			case name == "lobby":
				members = 3
			case err == nil && n%3 == 0:
				members = 2
			}
			if r["members"] != float64(members) || r["joined"] != (name == "lobby") {
				t.Fatalf("room %v: want %d members, joined only for lobby", r, members)
			}
			got = append(got, name)
		}
		if m["more"] != true {
			if _, ok := m["next"]; ok {
				t.Fatalf("last page with a cursor: %v", m)
			}
			break
		}
		if m["next"] != got[len(got)-1] {
			t.Fatalf("next = %v, want the page's last room %s", m["next"], got[len(got)-1])
		}
		after = m["next"].(string)
	}
	if !slices.Equal(got, want) || pages != 4 {
		t.Fatalf("walked %d pages: %v\nwant %v", pages, got, want)
	}

	for _, tc := range []struct {
		name string
		req  map[string]any
		want []string
		more bool
	}{
		{"old client: first page", map[string]any{"type": "rooms"}, want[:7], true},
		{"limit", map[string]any{"type": "rooms", "limit": 3}, want[:3], true},
		{"limit over the cap", map[string]any{"type": "rooms", "limit": 1000}, want[:7], true},
		{"negative limit", map[string]any{"type": "rooms", "limit": -1}, want[:7], true},
		{"after a name that is no room", map[string]any{"type": "rooms", "after": "r2"}, want[21:], false},
		{"exactly the rest", map[string]any{"type": "rooms", "after": "r19", "limit": 5}, want[21:], false},
		{"after the last", map[string]any{"type": "rooms", "after": "r24"}, []string{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice.sendJSON(tc.req)
			m := alice.expect(map[string]any{"type": "rooms"})
			var names []string
			for _, r := range m["rooms"].([]any) {
				r := r.(map[string]any)
				if r["joined"] != true {
					t.Errorf("alice is in %v", r)
				}
				names = append(names, r["name"].(string))
			}
			if !slices.Equal(names, tc.want) || (m["more"] == true) != tc.more {
				t.Fatalf("got %v more=%v, want %v more=%v", names, m["more"], tc.want, tc.more)
			}
		})
	}
}

// TestWhoPaging: who answers pages of at most who_limit users sorted by
// name; walking the cursor returns every user exactly once.
func TestWhoPaging(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) { c.Rooms.WhoLimit = 4 }})
	var want []string
	for i := 9; i >= 0; i-- {
		name := fmt.Sprintf("u%d", i)
		join(e.login(t, name), "dev")
		want = append(want, name)
	}
	slices.Sort(want)
	alice := e.login(t, "alice")

	var got []string
	after, pages := "", 0
	for {
		alice.sendJSON(map[string]any{"type": "who", "room": "dev", "after": after, "id": pages})
		m := alice.expect(map[string]any{"type": "who", "room": "dev", "ref": pages})
		pages++
		users := m["users"].([]any)
		if len(users) == 0 || len(users) > 4 {
			t.Fatalf("page %d has %d users: %v", pages, len(users), m)
		}
		for _, u := range users {
			got = append(got, u.(string))
		}
		if m["more"] != true {
			break
		}
		if m["next"] != got[len(got)-1] {
			t.Fatalf("next = %v, want %s", m["next"], got[len(got)-1])
		}
		after = m["next"].(string)
	}
	if !slices.Equal(got, want) || pages != 3 {
		t.Fatalf("walked %d pages: %v\nwant %v", pages, got, want)
	}

	for _, tc := range []struct {
		name string
		req  map[string]any
		want []string
		more bool
	}{
		{"old client: first page", map[string]any{"type": "who", "room": "dev"}, want[:4], true},
		{"limit", map[string]any{"type": "who", "room": "dev", "limit": 2}, want[:2], true},
		{"limit over the cap", map[string]any{"type": "who", "room": "dev", "limit": 50}, want[:4], true},
		{"after", map[string]any{"type": "who", "room": "dev", "after": "u5"}, want[6:], false},
		{"after the last", map[string]any{"type": "who", "room": "dev", "after": "u9"}, []string{}, false},
		{"no such room", map[string]any{"type": "who", "room": "nowhere"}, []string{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice.sendJSON(tc.req)
			m := alice.expect(map[string]any{"type": "who"})
			if !equalJSON(m["users"], tc.want) || (m["more"] == true) != tc.more {
				t.Fatalf("got %v more=%v, want %v more=%v", m["users"], m["more"], tc.want, tc.more)
			}
		})
	}
}

// TestMaxRooms: a join that would create a room past max_rooms is refused
// and the connection stays open; existing rooms and auto-joined rooms are
// always joined.
func TestMaxRooms(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) {
		c.Rooms.AutoJoin = []string{"lobby", "news"}
		c.Rooms.MaxRooms = 2
	}})
	alice := e.login(t, "alice") // lobby and news: the cap is reached
	alice.sendJSON(map[string]any{"type": "join", "room": "a", "id": 1})
	alice.expect(map[string]any{"type": "error", "error": "too many rooms on this server", "ref": 1})
	leave(alice, "news") // deleted: one room left
	join(alice, "a")

	bob := e.login(t, "bob") // creates news again: 3 rooms, over the cap
	bob.sendJSON(map[string]any{"type": "rooms"})
	bob.expect(map[string]any{"rooms": []map[string]any{
		{"name": "a", "members": 1, "joined": false},
		{"name": "lobby", "members": 2, "joined": true},
		{"name": "news", "members": 1, "joined": true},
	}})
	join(bob, "a") // exists
	bob.sendJSON(map[string]any{"type": "join", "room": "b", "id": 2})
	bob.expect(map[string]any{"type": "error", "error": "too many rooms on this server", "ref": 2})
	leave(bob, "news")
	leave(bob, "a")
	leave(alice, "a")
	join(bob, "b") // lobby and b
	join(alice, "news")
}
