package mailbox

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestConfigDefault(t *testing.T) {
	if got, want := (Config{}).withDefaults(), Default(); got != want {
		t.Fatalf("withDefaults() = %+v, want Default() = %+v", got, want)
	}
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate(): %v", err)
	}
	want := Config{
		Dir: "./data", MaxMessages: 1000, MaxBytes: 16777216, MaxBytesPerSender: 1048576,
		MaxTotalBytes: 1073741824, MaxAge: 168 * time.Hour, SeenMaxAge: 720 * time.Hour,
	}
	if d := Default(); d != want {
		t.Fatalf("Default() = %+v, want %+v", d, want)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want []string // substrings of the error; none means valid
	}{
		{name: "defaults", edit: func(*Config) {}},
		{name: "one message one second", edit: func(c *Config) { c.MaxMessages, c.MaxAge = 1, time.Second }},
		{name: "empty dir", edit: func(c *Config) { c.Dir = "" }, want: []string{"chat.mailbox.dir"}},
		{name: "zero max", edit: func(c *Config) { c.MaxMessages = 0 }, want: []string{"chat.mailbox.max_messages 0"}},
		{name: "huge max", edit: func(c *Config) { c.MaxMessages = 2_000_000 }, want: []string{"chat.mailbox.max_messages 2000000"}},
		{name: "negative age", edit: func(c *Config) { c.MaxAge = -time.Hour }, want: []string{"chat.mailbox.max_age -1h0m0s"}},
		{name: "tiny age", edit: func(c *Config) { c.MaxAge = time.Millisecond }, want: []string{"chat.mailbox.max_age 1ms"}},
		{name: "one byte everywhere", edit: func(c *Config) { c.MaxBytes, c.MaxBytesPerSender, c.MaxTotalBytes = 1, 1, 1 }},
		{name: "largest sizes", edit: func(c *Config) { c.MaxBytes, c.MaxBytesPerSender, c.MaxTotalBytes = 1<<30, 1<<30, 1<<40 }},
		{name: "zero bytes", edit: func(c *Config) { c.MaxBytes = 0 }, want: []string{"chat.mailbox.max_bytes 0"}},
		{name: "huge bytes", edit: func(c *Config) { c.MaxBytes = 1<<30 + 1 }, want: []string{"chat.mailbox.max_bytes 1073741825"}},
		{name: "negative per sender", edit: func(c *Config) { c.MaxBytesPerSender = -1 }, want: []string{"chat.mailbox.max_bytes_per_sender -1"}},
		{name: "zero total", edit: func(c *Config) { c.MaxTotalBytes = 0 }, want: []string{"chat.mailbox.max_total_bytes 0"}},
		{name: "huge total", edit: func(c *Config) { c.MaxTotalBytes = 1<<40 + 1 }, want: []string{"chat.mailbox.max_total_bytes 1099511627777"}},
		{
			name: "per sender over mailbox",
			edit: func(c *Config) { c.MaxBytesPerSender = c.MaxBytes + 1 },
			want: []string{"chat.mailbox.max_bytes_per_sender 16777217: want at most chat.mailbox.max_bytes (16777216)"},
		},
		{
			name: "mailbox over store",
			edit: func(c *Config) { c.MaxTotalBytes = c.MaxBytes - 1 },
			want: []string{"chat.mailbox.max_bytes 16777216: want at most chat.mailbox.max_total_bytes (16777215)"},
		},
		{name: "tiny seen age", edit: func(c *Config) { c.SeenMaxAge = time.Millisecond }, want: []string{"chat.mailbox.seen_max_age 1ms"}},
		{
			name: "all wrong at once",
			edit: func(c *Config) { *c = Config{MaxMessages: -1} },
			want: []string{
				"chat.mailbox.dir", "chat.mailbox.max_messages -1", "chat.mailbox.max_age 0s",
				"chat.mailbox.max_bytes 0", "chat.mailbox.max_bytes_per_sender 0", "chat.mailbox.max_total_bytes 0",
				"chat.mailbox.seen_max_age 0s",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.edit(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestOpenRejectsInvalidConfig(t *testing.T) {
	_, err := Open(Config{Dir: t.TempDir(), MaxMessages: -5}, nil)
	if err == nil || !strings.Contains(err.Error(), "chat.mailbox.max_messages") {
		t.Fatalf("Open with max_messages -5: err = %v", err)
	}
}

// TestConfigInline decodes the chat.mailbox keys strictly into a section
// that embeds Config with yaml ",inline", as the chat layer does.
func TestConfigInline(t *testing.T) {
	const doc = `
mailbox:
  dir: /var/lib/chatd
  max_messages: 50
  max_bytes: 4096
  max_bytes_per_sender: 1024
  max_total_bytes: 65536
  max_age: "24h"
  seen_max_age: "48h"
  other: 7
`
	var got struct {
		Mailbox struct {
			Config `yaml:",inline"`
			Other  int `yaml:"other"`
		} `yaml:"mailbox"`
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := Config{
		Dir: "/var/lib/chatd", MaxMessages: 50, MaxBytes: 4096, MaxBytesPerSender: 1024,
		MaxTotalBytes: 65536, MaxAge: 24 * time.Hour, SeenMaxAge: 48 * time.Hour,
	}
	if got.Mailbox.Config != want || got.Mailbox.Other != 7 {
		t.Fatalf("decoded %+v, want %+v and other 7", got.Mailbox, want)
	}
	if err := got.Mailbox.Validate(); err != nil {
		t.Fatal(err)
	}
}
