package scenario

import (
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/bench/check"
)

func TestPayloadRoundTrip(t *testing.T) {
	at := time.Unix(1763740000, 123456789)
	cases := []struct {
		name string
		s    check.Stream
		seq  uint32
		size int
	}{
		{"private padded", check.Stream{From: 3, To: 19000}, 7, 64},
		{"room padded", check.Stream{From: 18999, To: 0, Room: true}, 1 << 31, 200},
		{"header longer than size", check.Stream{From: 123456, To: 654321}, 99999, 8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := appendPayload(nil, tc.s, tc.seq, at, tc.size)
			if len(p) < tc.size || (len(p) > tc.size && strings.HasSuffix(string(p), "x")) {
				t.Fatalf("payload %q for size %d", p, tc.size)
			}
			s, seq, got, err := parsePayload(p, tc.size)
			if err != nil || s != tc.s || seq != tc.seq || !got.Equal(at) {
				t.Fatalf("parse %q = %v %d %v %v", p, s, seq, got, err)
			}
			// Any cut or alteration is caught.
			if _, _, _, err := parsePayload(p[:len(p)-1], tc.size); err == nil {
				t.Error("cut payload accepted")
			}
			bad := append([]byte(nil), p...)
			bad[len(bad)-1] = 'y'
			if _, _, _, err := parsePayload(bad, tc.size); err == nil {
				t.Error("altered payload accepted")
			}
		})
	}
	// Numbers as appendPayload writes them only: a digit inserted into a
	// padded payload shortens the padding and keeps the size, so a leading
	// zero or a sign must not parse to the same values (fuzzing found
	// "cb|0|u000|0|000|" for size 16).
	junk := []string{"", "hello", "cb|", "cb|1|u2|3|", "cb|1|x2|3|4|", "cb|a|u2|3|4|",
		"cb|01|u2|3|4|", "cb|1|u02|3|4|", "cb|1|u2|03|4|", "cb|1|u2|3|04|", "cb|+1|u2|3|4|", "cb|-0|u2|3|4|",
		"cb|1|u2|3|-04|", "cb|1|u|3|4|", "cb|1|u2||4|"}
	for _, junk := range junk {
		if _, _, _, err := parsePayload([]byte(junk), 0); err == nil {
			t.Errorf("junk %q accepted", junk)
		}
	}
}

func FuzzParsePayload(f *testing.F) {
	f.Add([]byte("cb|1|u2|3|4|xxxx"), 16)
	f.Add([]byte("cb|1|r0|3|4|"), 8)
	f.Fuzz(func(t *testing.T, p []byte, size int) {
		s, seq, at, err := parsePayload(p, size)
		if err != nil {
			return
		}
		// What parses must re-encode to the same bytes.
		if back := appendPayload(nil, s, seq, at, size); string(back) != string(p) {
			t.Fatalf("%q parsed as %v %d %v re-encodes as %q", p, s, seq, at, back)
		}
	})
}

func TestEchoPayload(t *testing.T) {
	at := time.Unix(0, 42)
	b := make([]byte, 40)
	fillEcho(b, 5, 9, at)
	seq, got, err := parseEcho(b, 5, 40)
	if err != nil || seq != 9 || !got.Equal(at) {
		t.Fatalf("parseEcho = %d %v %v", seq, got, err)
	}
	if _, _, err := parseEcho(b, 6, 40); err == nil {
		t.Error("another connection's echo accepted")
	}
	b[30]++
	if _, _, err := parseEcho(b, 5, 40); err == nil {
		t.Error("altered echo accepted")
	}
}

func TestScanMessage(t *testing.T) {
	cases := []struct {
		name, msg    string
		ok           bool
		sender, data string
		offline      bool
	}{
		{"chatd private", `{"type":"message","id":7,"sender":"cbx-1","receiver":"cbx-2","data":"cb|1|u2|0|5|","ts":9}`, true, "cbx-1", "cb|1|u2|0|5|", false},
		{"chatd offline", `{"type":"message","id":7,"sender":"a","receiver":"b","data":"d","ts":9,"offline":true}`, true, "a", "d", true},
		{"baseline lobby", `{"type":"message","sender":"a","room":"lobby","data":"hi"}`, true, "a", "hi", false},
		{"escaped data", `{"type":"message","sender":"a","data":"say \"hi\""}`, false, "", "", false},
		{"object data", `{"type":"message","sender":"a","data":{"x":1}}`, false, "", "", false},
		{"not a message", `{"type":"sent","id":1,"status":"delivered"}`, false, "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := scanMessage([]byte(tc.msg))
			if ok != tc.ok || ok && (string(m.sender) != tc.sender || string(m.data) != tc.data || m.offline != tc.offline) {
				t.Fatalf("scan = %q %q %v %v", m.sender, m.data, m.offline, ok)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"private defaults", Config{Scenario: Private}, ""},
		{"echo defaults", Config{Scenario: Echo}, ""},
		{"no scenario", Config{}, "no scenario"},
		{"unknown scenario", Config{Scenario: "flood"}, "want one of"},
		{"too many per proc", Config{Scenario: Idle, N: 40000, Procs: 2}, "at most 19000"},
		{"private alone", Config{Scenario: Private, N: 1}, "at least 2"},
		{"observers in the lobby", Config{Scenario: Room, Observers: 3}, "observers need a room"},
		{"chat on /echo", Config{Scenario: Private, URL: "ws://127.0.0.1:1/echo"}, "needs a chat endpoint"},
		{"bad source", Config{Scenario: Idle, Src: "10.0.0.1"}, "loopback"},
		{"echo too small", Config{Scenario: Echo, Size: 8}, "at least 16"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.WithDefaults().Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
	c := Config{Scenario: Idle, N: 40000}.WithDefaults()
	if c.Procs != 3 {
		t.Fatalf("40000 connections: %d procs, want 3", c.Procs)
	}
	total := 0
	for i, sh := range Shards(c) {
		if sh.First != total || sh.N > MaxConnsPerProc || sh.Proc != i {
			t.Fatalf("shard %+v", sh)
		}
		total += sh.N
	}
	if total != 40000 {
		t.Fatalf("shards cover %d", total)
	}
}

func TestPlans(t *testing.T) {
	room := PlanFor(Config{Scenario: Room, N: 5})
	s := check.Stream{From: 2, To: 0, Room: true}
	var got []int32
	room.Receivers(s, func(r int32) { got = append(got, r) })
	if len(got) != 4 || room.Intended(s, 2) || room.Intended(s, 5) || !room.Intended(s, 4) {
		t.Fatalf("room receivers %v", got)
	}
	direct := PlanFor(Config{Scenario: Private})
	p := check.Stream{From: 1, To: 3}
	if !direct.Intended(p, 3) || direct.Intended(p, 1) {
		t.Fatal("private plan")
	}
	pubs := 0
	for i := range 1000 {
		if isPublisher(i, 1000, 7, 1) {
			pubs++
		}
	}
	if pubs != 7 {
		t.Fatalf("%d publishers, want 7", pubs)
	}
	if partner(0, 10) != 5 || partner(7, 10) != 2 {
		t.Fatal("partner")
	}
}
