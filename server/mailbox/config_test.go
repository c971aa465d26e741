package mailbox

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefault(t *testing.T) {
	if got, want := (Config{}).withDefaults(), Default(); got != want {
		t.Fatalf("withDefaults() = %+v, want Default() = %+v", got, want)
	}
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate(): %v", err)
	}
	if d := Default(); d.Dir != "./data" || d.MaxMessages != 1000 || d.MaxAge != 168*time.Hour {
		t.Fatalf("Default() = %+v", d)
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
		{
			name: "all wrong at once",
			edit: func(c *Config) { *c = Config{MaxMessages: -1} },
			want: []string{"chat.mailbox.dir", "chat.mailbox.max_messages -1", "chat.mailbox.max_age 0s"},
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
