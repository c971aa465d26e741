package scenario

import (
	"flag"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// spreadCases are runs over one or several URLs; TestSpread checks the
// rule on each.
var spreadCases = []struct {
	name string
	cfg  Config
	urls int
}{
	{"private one url", Config{Scenario: Private, N: 10}, 1},
	{"private partners over 2", Config{Scenario: Private, N: 10}, 2},
	{"private partners over 3", Config{Scenario: Private, N: 12}, 3},
	{"private partners over 3, half a multiple of 3", Config{Scenario: Private, N: 6}, 3},
	{"private partners over 4", Config{Scenario: Private, N: 1000}, 4},
	{"private partners, two users over 2", Config{Scenario: Private, N: 2}, 2},
	{"private partners, more urls than pairs", Config{Scenario: Private, N: 4}, 3},
	{"private random over 3", Config{Scenario: Private, N: 11, Receiver: "random"}, 3},
	{"room over 3", Config{Scenario: Room, N: 20, Observers: 4, RoomName: "dev"}, 3},
	{"echo over 2", Config{Scenario: Echo, N: 7}, 2},
	{"mailbox over 2", Config{Scenario: Mailbox, N: 9, Senders: 3}, 2},
}

func urlList(n int) string {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = "ws://127.0.0.1:" + strconv.Itoa(8081+i) + "/ws"
	}
	return strings.Join(urls, ",")
}

func TestSpread(t *testing.T) {
	for _, tc := range spreadCases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.URL = urlList(tc.urls)
			if cfg.Scenario == Echo {
				cfg.URL = strings.ReplaceAll(cfg.URL, "/ws", "/echo")
			}
			cfg.Tag = "t"
			cfg = cfg.WithDefaults()
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			sp := cfg.spread()
			users := cfg.Users()
			per := make([]int, tc.urls)
			for i := range users {
				k := sp.node(i)
				if k < 0 || k >= tc.urls {
					t.Fatalf("user %d on url %d of %d", i, k, tc.urls)
				}
				per[k]++
				pairs := cfg.Scenario == Private && cfg.Receiver == "partner"
				if !pairs && k != i%tc.urls {
					t.Errorf("user %d on url %d, want i mod n = %d", i, k, i%tc.urls)
				}
				if pairs && tc.urls > 1 {
					if p := partner(i, cfg.N); sp.node(p) == k {
						t.Errorf("user %d and its partner %d both on url %d", i, p, k)
					}
				}
			}
			// Even: every URL used when there are users enough, and
			// within two of each other (each half within one).
			if lo, hi := slices.Min(per), slices.Max(per); hi-lo > 2 || (users >= tc.urls && lo == 0) {
				t.Errorf("users per url %v", per)
			}
		})
	}
}

func TestSpreadConfig(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"two urls", Config{Scenario: Private, URL: "ws://127.0.0.1:1/ws, ws://127.0.0.1:2/ws"}, ""},
		{"odd pairs over two urls", Config{Scenario: Private, N: 5, URL: urlList(2)}, "needs an even n"},
		{"odd random over two urls", Config{Scenario: Private, N: 5, Receiver: "random", URL: urlList(2)}, ""},
		{"odd room over two urls", Config{Scenario: Room, N: 5, URL: urlList(2)}, ""},
		{"same url twice", Config{Scenario: Echo, URL: "ws://127.0.0.1:1/echo,ws://127.0.0.1:1/echo"}, "given twice"},
		{"mixed paths", Config{Scenario: Connect, URL: "ws://127.0.0.1:1/ws,ws://127.0.0.1:2/echo"}, "same path"},
		{"bad second url", Config{Scenario: Connect, URL: "ws://127.0.0.1:1/ws,http://127.0.0.1:2/ws"}, "want ws://"},
		{"no host", Config{Scenario: Connect, URL: "ws:///ws"}, "want ws://"},
		{"only commas", Config{Scenario: Connect, URL: ",,"}, "none given"},
		{"two pids", Config{Scenario: Idle, PIDs: PIDs{10, 11}}, ""},
		{"same pid twice", Config{Scenario: Idle, PIDs: PIDs{10, 10}}, "given twice"},
		{"pid zero", Config{Scenario: Idle, PIDs: PIDs{0}}, "want a process id"},
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
	c := Config{Scenario: Private, URL: " ws://127.0.0.1:1/ws ,ws://127.0.0.1:2/ws,"}.WithDefaults()
	if c.URL != "ws://127.0.0.1:1/ws,ws://127.0.0.1:2/ws" || !*c.Login {
		t.Errorf("normalised url %q, login %v", c.URL, *c.Login)
	}
}

func TestPIDs(t *testing.T) {
	cases := []struct {
		name, in string
		want     PIDs
		wantErr  bool
	}{
		{"one", "1234", PIDs{1234}, false},
		{"commas", "1234,5678", PIDs{1234, 5678}, false},
		{"pidof", "1234 5678 9", PIDs{1234, 5678, 9}, false},
		{"empty", "", nil, false},
		{"word", "chatd", nil, true},
		{"negative", "-1", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p PIDs
			err := p.Set(tc.in)
			if (err != nil) != tc.wantErr || !slices.Equal(p, tc.want) {
				t.Fatalf("Set(%q) = %v, %v", tc.in, p, err)
			}
		})
	}

	// A flag replaces what the config file said.
	c := Config{PIDs: PIDs{1}}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Var(&c.PIDs, "pid", "")
	if err := fs.Parse([]string{"-pid", "2,3"}); err != nil || !slices.Equal(c.PIDs, PIDs{2, 3}) || c.PIDs.String() != "2,3" {
		t.Fatalf("flag: %v %v", c.PIDs, err)
	}

	for in, want := range map[string]PIDs{"pid: 7": {7}, "pid: \"7,8\"": {7, 8}, "pid: [7, 8]": {7, 8}} {
		var c Config
		if err := yaml.Unmarshal([]byte(in), &c); err != nil || !slices.Equal(c.PIDs, want) {
			t.Errorf("yaml %q: %v %v", in, c.PIDs, err)
		}
	}
	var bad Config
	if err := yaml.Unmarshal([]byte("pid: chatd"), &bad); err == nil {
		t.Error("yaml pid: chatd accepted")
	}
}

func TestPublishersSpread(t *testing.T) {
	cases := []struct{ members, publishers, urls int }{
		{1000, 7, 1}, {10000, 3, 3}, {10000, 1, 3}, {30, 3, 2}, {25, 2, 2}, {12, 4, 3}, {10, 10, 3}, {10, 4, 3}, {7, 7, 2},
	}
	for _, tc := range cases {
		var pubs []int
		per := make([]int, tc.urls)
		for i := range tc.members {
			if isPublisher(i, tc.members, tc.publishers, tc.urls) {
				pubs = append(pubs, i)
				per[i%tc.urls]++
			}
		}
		stride := tc.members / tc.publishers
		if len(pubs) != tc.publishers {
			t.Errorf("%+v: publishers %v", tc, pubs)
			continue
		}
		for k, i := range pubs {
			switch {
			case i/stride != k: // one per stride, in order: spread over the workers
				t.Errorf("%+v: publisher %d is member %d, outside its stride", tc, k, i)
			case tc.urls == 1 && i != k*stride:
				t.Errorf("%+v: publisher %d is member %d, want %d", tc, k, i, k*stride)
			case stride >= tc.urls && i%tc.urls != k%tc.urls:
				t.Errorf("%+v: publisher %d is on url %d, want %d", tc, k, i%tc.urls, k%tc.urls)
			}
		}
		if lo, hi := slices.Min(per), slices.Max(per); hi-lo > 1 && stride >= tc.urls {
			t.Errorf("%+v: publishers per url %v", tc, per)
		}
	}
}
