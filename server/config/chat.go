package config

import (
	"regexp"
	"time"

	"github.com/chatd/chatd/auth/httpauth"
	"github.com/chatd/chatd/auth/jwt"
	"github.com/chatd/chatd/auth/passwords"
	"github.com/chatd/chatd/auth/static"
	"github.com/chatd/chatd/server/mailbox"
)

// Chat configures the /ws chat endpoint.
type Chat struct {
	// Enabled serves /ws. Default true.
	Enabled bool      `yaml:"enabled"`
	Login   ChatLogin `yaml:"login"`
	Rooms   ChatRooms `yaml:"rooms"`
	Rate    ChatRate  `yaml:"rate"`
	// Mailbox is the durable store of messages for offline users.
	Mailbox mailbox.Config `yaml:"mailbox"`
}

// ChatLogin bounds the login loop.
type ChatLogin struct {
	// MaxAttempts is the number of failed logins after which the connection
	// is closed with 4001. Default 5.
	MaxAttempts int `yaml:"max_attempts"`
	// Timeout closes a connection that has not logged in (4004). Default "30s".
	Timeout time.Duration `yaml:"timeout"`
	// FailureDelay is the wait before the next attempt is handled after the
	// first failure; it doubles with each failure. Default "250ms".
	FailureDelay time.Duration `yaml:"failure_delay"`
	// MaxFailureDelay caps the doubling. Default "2s".
	MaxFailureDelay time.Duration `yaml:"max_failure_delay"`
}

// ChatRooms configures rooms and presence.
type ChatRooms struct {
	// AutoJoin lists the rooms every session joins at login. Default ["lobby"].
	AutoJoin []string `yaml:"auto_join"`
	// MaxPerSession caps the rooms one connection joins besides AutoJoin.
	// Default 32.
	MaxPerSession int `yaml:"max_per_session"`
	// NamePattern is the regular expression room names must match.
	// Default "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$".
	NamePattern string `yaml:"name_pattern"`
	// Presence announces users coming and going in rooms other than the
	// AutoJoin ones. Default true.
	Presence bool `yaml:"presence"`
	// PresenceAutoJoin announces them in the AutoJoin rooms too; every login
	// then reaches everyone, O(N^2) in total. Default false.
	PresenceAutoJoin bool `yaml:"presence_auto_join"`
}

// ChatRate is a per-connection token bucket on chat messages and commands.
type ChatRate struct {
	// MessagesPerSecond is the sustained rate. Default 20.
	MessagesPerSecond float64 `yaml:"messages_per_second"`
	// Burst is the bucket size. Default 40.
	Burst int `yaml:"burst"`
	// MaxRejected messages over the rate within Window close the
	// connection with 4029. Default 100.
	MaxRejected int `yaml:"max_rejected"`
	// Window is the period MaxRejected counts over. Default "10s".
	Window time.Duration `yaml:"window"`
}

// Auth selects and tunes the login backend.
type Auth struct {
	// Backend is anonymous, static, passwords, jwt or http. Default anonymous.
	Backend string `yaml:"backend"`
	// SessionsPerUser caps concurrent sessions per name (anonymous: always
	// 1). Default 4.
	SessionsPerUser int `yaml:"sessions_per_user"`
	// Workers is the number of logins checked at once. Default 4.
	Workers int `yaml:"workers"`
	// Queue is the number of logins waiting for a worker; past it a login
	// is answered "server busy". Default 1024.
	Queue int `yaml:"queue"`

	// Settings of each backend; only the selected one is used and checked.
	Static    static.Config    `yaml:"static"`
	Passwords passwords.Config `yaml:"passwords"`
	JWT       jwt.Config       `yaml:"jwt"`
	HTTP      httpauth.Config  `yaml:"http"`
}

func defaultChat() Chat {
	return Chat{
		Enabled: true,
		Login: ChatLogin{
			MaxAttempts:     5,
			Timeout:         30 * time.Second,
			FailureDelay:    250 * time.Millisecond,
			MaxFailureDelay: 2 * time.Second,
		},
		Rooms: ChatRooms{
			AutoJoin:      []string{"lobby"},
			MaxPerSession: 32,
			NamePattern:   "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
			Presence:      true,
		},
		Rate: ChatRate{
			MessagesPerSecond: 20,
			Burst:             40,
			MaxRejected:       100,
			Window:            10 * time.Second,
		},
		Mailbox: mailbox.Default(),
	}
}

func defaultAuth() Auth {
	return Auth{
		Backend:         "anonymous",
		SessionsPerUser: 4,
		Workers:         4,
		Queue:           1024,
		Static:          static.Default(),
		Passwords:       passwords.Default(),
		JWT:             jwt.Default(),
		HTTP:            httpauth.Default(),
	}
}

func (c Chat) validate(add func(string, ...any)) {
	l := c.Login
	if l.MaxAttempts < 1 || l.MaxAttempts > 1000 {
		add("chat.login.max_attempts %d: want 1 to 1000", l.MaxAttempts)
	}
	if l.Timeout <= 0 {
		add("chat.login.timeout %v: want a positive duration such as \"30s\"", l.Timeout)
	}
	if l.FailureDelay < 0 || l.MaxFailureDelay < l.FailureDelay {
		add("chat.login.failure_delay %v, max_failure_delay %v: want 0 <= failure_delay <= max_failure_delay", l.FailureDelay, l.MaxFailureDelay)
	}
	r := c.Rooms
	re, err := regexp.Compile(r.NamePattern)
	if err != nil {
		add("chat.rooms.name_pattern %q: %v", r.NamePattern, err)
	}
	for i, name := range r.AutoJoin {
		if re != nil && !re.MatchString(name) {
			add("chat.rooms.auto_join[%d] %q: does not match chat.rooms.name_pattern", i, name)
		}
	}
	if r.MaxPerSession < 0 || r.MaxPerSession > 10000 {
		add("chat.rooms.max_per_session %d: want 0 to 10000", r.MaxPerSession)
	}
	rt := c.Rate
	if rt.MessagesPerSecond <= 0 || rt.Burst < 1 {
		add("chat.rate: messages_per_second %v and burst %d must be positive", rt.MessagesPerSecond, rt.Burst)
	}
	if rt.MaxRejected < 1 || rt.Window <= 0 {
		add("chat.rate: max_rejected %d and window %v must be positive", rt.MaxRejected, rt.Window)
	}
	if err := c.Mailbox.Validate(); err != nil {
		add("%v", err)
	}
}

// Backends lists the auth backends.
var Backends = []string{"anonymous", "static", "passwords", "jwt", "http"}

func (a Auth) validate(add func(string, ...any)) {
	known := false
	for _, b := range Backends {
		known = known || a.Backend == b
	}
	if !known {
		add("auth.backend %q: want one of %v", a.Backend, Backends)
	}
	if a.SessionsPerUser < 1 || a.SessionsPerUser > 1000 {
		add("auth.sessions_per_user %d: want 1 to 1000", a.SessionsPerUser)
	}
	if a.Workers < 1 || a.Workers > 1024 {
		add("auth.workers %d: want 1 to 1024", a.Workers)
	}
	if a.Queue < 1 {
		add("auth.queue %d: want at least 1", a.Queue)
	}
	var err error
	switch a.Backend {
	case "static":
		err = a.Static.Validate()
	case "passwords":
		err = a.Passwords.Validate()
	case "jwt":
		err = a.JWT.Validate()
	case "http":
		err = a.HTTP.Validate()
	}
	if err != nil {
		add("%v", err)
	}
}
