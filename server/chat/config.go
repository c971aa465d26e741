package chat

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server/mailbox"
)

// Config is the chat: section of chatd's configuration: the /ws endpoint,
// its logins, rooms, rate limits, offline mailbox, history and resume.
// Each field documents its default (DefaultConfig); Validate names a bad
// one by its YAML key path.
type Config struct {
	// Enabled serves /ws. Default true.
	Enabled bool        `yaml:"enabled"`
	Login   LoginConfig `yaml:"login"`
	Rooms   RoomsConfig `yaml:"rooms"`
	Rate    RateConfig  `yaml:"rate"`
	// Mailbox is the durable store of messages for offline users, and how
	// the chat layer uses it.
	Mailbox MailboxConfig `yaml:"mailbox"`
	// History is what each room keeps of its recent messages, for the
	// history request and for a join with since.
	History HistoryConfig `yaml:"history"`
	// Resume lets a client that lost its connection log in again as the
	// same session (docs/PROTOCOL.md, "Session resume").
	Resume ResumeConfig `yaml:"resume"`
}

// ResumeConfig configures resume tokens.
type ResumeConfig struct {
	// TTL is how long after a session closed its token still resumes it;
	// while the session is open its token always does. "0s" turns resume
	// off: login_ok carries no token. Default "2m".
	TTL time.Duration `yaml:"ttl"`
	// MaxClosed caps the closed sessions whose rooms are kept for a
	// resume; past it the oldest are forgotten. Default 100000.
	MaxClosed int `yaml:"max_closed"`
}

// HistoryConfig bounds each room's recent messages, kept in memory and, when
// Durable, in Mailbox.Dir/history.db.
type HistoryConfig struct {
	// Messages is the most messages one room keeps; 0 turns history off
	// (messages still get a seq). Default 100.
	Messages int `yaml:"messages"`
	// MaxAge drops messages older than this from the history. Default "24h".
	MaxAge time.Duration `yaml:"max_age"`
	// MaxBytes is the most bytes of messages (their JSON) one room keeps;
	// it also bounds a history reply and a join's replay. Default 262144.
	MaxBytes int `yaml:"max_bytes"`
	// Limit is the default and largest "limit" of a history request.
	// Default 100.
	Limit int `yaml:"limit"`
	// MaxTotalBytes is the most bytes of messages (their JSON) all rooms
	// keep together, rooms with members and kept empty ones. Past it, kept
	// empty rooms are dropped first (emptied longest ago first), then the
	// biggest rooms' oldest messages. Go's heap can reach about twice it.
	// Default 268435456 (256 MiB).
	MaxTotalBytes int `yaml:"max_total_bytes"`
	// Durable writes the history to Mailbox.Dir/history.db, so rooms keep
	// their history and seq across restarts. Default false.
	Durable bool `yaml:"durable"`
	// FlushInterval is how long new messages wait before they are written
	// to the store, together in one transaction: a kill -9 loses at most
	// the messages of the last interval from history. Default "100ms".
	FlushInterval time.Duration `yaml:"flush_interval"`
}

// MailboxConfig is the chat.mailbox section: the store's own settings
// (mailbox.Config, inline) plus how sessions use the store.
type MailboxConfig struct {
	mailbox.Config `yaml:",inline"`
	// Anonymous keeps offline mail for users of the anonymous backend.
	// Names are not authenticated there, so whoever logs in with a name
	// reads its mail: off by default, and then a private message to an
	// offline user is refused with an error instead of stored. Default false.
	Anonymous bool `yaml:"anonymous"`
	// PageMessages and PageBytes bound one page of a mailbox written to a
	// session at login; the next page is read only once the socket has
	// taken the previous one. Keep PageBytes well under
	// server.limits.write_budget_bytes. Defaults 100 and 262144.
	PageMessages int `yaml:"page_messages"`
	PageBytes    int `yaml:"page_bytes"`
	// LiveBufferBytes bounds the live messages a session holds back while
	// its mailbox is being written; past it the session is closed as a slow
	// consumer (4008) and undelivered private messages are stored.
	// Default 1048576.
	LiveBufferBytes int `yaml:"live_buffer_bytes"`
	// QueueBytes bounds the messages waiting to be written to the store,
	// server-wide; past it senders get "server busy, try again".
	// Default 67108864.
	QueueBytes int `yaml:"queue_bytes"`
}

// LoginConfig bounds the login loop.
type LoginConfig struct {
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
	// MaxMessages and MaxBytes bound what a connection may send before it
	// has logged in; past either it is closed with 4005. Defaults 20 and
	// 131072.
	MaxMessages int `yaml:"max_messages"`
	MaxBytes    int `yaml:"max_bytes"`
	// AddressRate and AddressBurst are a token bucket on login attempts
	// per source address (IPv4 address or IPv6 /64), across connections.
	// An attempt over it is refused with "too many logins from your
	// address, try again later" (not counted). Defaults 20 and 100.
	AddressRate  float64 `yaml:"address_rate"`
	AddressBurst int     `yaml:"address_burst"`
	// AccountFailures failed logins for one name from one address are
	// allowed per AccountWindow (a token bucket refilled over the window);
	// past it attempts for that name from that address are refused with
	// "too many failed logins for this name, try again later" without
	// asking the backend. An attempt reserves its failure before the
	// backend is asked, so a burst cannot slip past. Defaults 10 and "1m".
	AccountFailures int           `yaml:"account_failures"`
	AccountWindow   time.Duration `yaml:"account_window"`
	// AccountFailuresTotal failed logins for one name are allowed per
	// AccountWindow over all addresses together (AccountFailures applies
	// to each address): one address cannot lock a name out for everyone,
	// and many addresses together cannot guess fast. Default 100.
	AccountFailuresTotal int `yaml:"account_failures_total"`
}

// RoomsConfig configures rooms and presence.
type RoomsConfig struct {
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
	// PresenceInterval is the least time between two rounds of presence
	// announcements in one room; the changes in between are coalesced, the
	// latest state of each user winning. Default "1s".
	PresenceInterval time.Duration `yaml:"presence_interval"`
	// PresenceMaxPending caps the users with changes waiting in one room;
	// past it the members get one reset hint instead. Default 100.
	PresenceMaxPending int `yaml:"presence_max_pending"`
	// MaxRooms caps the rooms on the server; a join that would create
	// another gets an error. AutoJoin rooms are always created. Default 10000.
	MaxRooms int `yaml:"max_rooms"`
	// ListLimit is the default and largest page of a rooms request.
	// Default 100.
	ListLimit int `yaml:"list_limit"`
	// WhoLimit is the default and largest page of a who request.
	// Default 1000.
	WhoLimit int `yaml:"who_limit"`
}

// RateConfig is a per-connection token bucket on chat messages and commands.
type RateConfig struct {
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

// DefaultConfig returns the built-in defaults, those of configs/chatd.yaml's
// chat: section.
func DefaultConfig() Config {
	return Config{
		Enabled: true,
		Login: LoginConfig{
			MaxAttempts:          5,
			Timeout:              30 * time.Second,
			FailureDelay:         250 * time.Millisecond,
			MaxFailureDelay:      2 * time.Second,
			MaxMessages:          20,
			MaxBytes:             128 << 10,
			AddressRate:          20,
			AddressBurst:         100,
			AccountFailures:      10,
			AccountWindow:        time.Minute,
			AccountFailuresTotal: 100,
		},
		Rooms: RoomsConfig{
			AutoJoin:      []string{"lobby"},
			MaxPerSession: 32,
			NamePattern:   "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
			Presence:      true,

			PresenceInterval:   time.Second,
			PresenceMaxPending: 100,
			MaxRooms:           10000,
			ListLimit:          100,
			WhoLimit:           1000,
		},
		Rate: RateConfig{
			MessagesPerSecond: 20,
			Burst:             40,
			MaxRejected:       100,
			Window:            10 * time.Second,
		},
		Mailbox: MailboxConfig{
			Config:          mailbox.Default(),
			PageMessages:    100,
			PageBytes:       256 << 10,
			LiveBufferBytes: 1 << 20,
			QueueBytes:      64 << 20,
		},
		Resume: ResumeConfig{TTL: 2 * time.Minute, MaxClosed: 100000},
		History: HistoryConfig{
			Messages:      100,
			MaxAge:        24 * time.Hour,
			MaxBytes:      256 << 10,
			Limit:         100,
			MaxTotalBytes: 256 << 20,
			FlushInterval: 100 * time.Millisecond,
		},
	}
}

// Validate reports every invalid field, one per line, named by its YAML key
// path (chat.…).
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
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
	if r.PresenceInterval < time.Millisecond || r.PresenceInterval > time.Minute {
		add("chat.rooms.presence_interval %v: want \"1ms\" to \"1m\"", r.PresenceInterval)
	}
	if r.PresenceMaxPending < 1 || r.PresenceMaxPending > 10000 {
		add("chat.rooms.presence_max_pending %d: want 1 to 10000", r.PresenceMaxPending)
	}
	if r.MaxRooms < 1 || r.MaxRooms > 100000 {
		add("chat.rooms.max_rooms %d: want 1 to 100000", r.MaxRooms)
	}
	if r.ListLimit < 1 || r.ListLimit > 1000 {
		add("chat.rooms.list_limit %d: want 1 to 1000", r.ListLimit)
	}
	if r.WhoLimit < 1 || r.WhoLimit > 10000 {
		add("chat.rooms.who_limit %d: want 1 to 10000", r.WhoLimit)
	}
	rt := c.Rate
	if rt.MessagesPerSecond <= 0 || rt.Burst < 1 {
		add("chat.rate: messages_per_second %v and burst %d must be positive", rt.MessagesPerSecond, rt.Burst)
	}
	if rt.MaxRejected < 1 || rt.MaxRejected > 1_000_000 || rt.Window <= 0 {
		add("chat.rate: max_rejected %d (1 to 1000000) and window %v must be positive", rt.MaxRejected, rt.Window)
	}
	if err := c.Mailbox.Validate(); err != nil {
		add("%v", err)
	}
	mb := c.Mailbox
	if mb.PageMessages < 1 || mb.PageMessages > 10000 {
		add("chat.mailbox.page_messages %d: want 1 to 10000", mb.PageMessages)
	}
	if mb.PageBytes < 1024 || mb.PageBytes > 64<<20 {
		add("chat.mailbox.page_bytes %d: want 1024 to 67108864", mb.PageBytes)
	}
	if mb.LiveBufferBytes < 1024 {
		add("chat.mailbox.live_buffer_bytes %d: want at least 1024", mb.LiveBufferBytes)
	}
	if mb.QueueBytes < 64<<10 {
		add("chat.mailbox.queue_bytes %d: want at least 65536", mb.QueueBytes)
	}
	h := c.History
	if h.Messages < 0 || h.Messages > 100000 {
		add("chat.history.messages %d: want 0 (off) to 100000", h.Messages)
	}
	if h.MaxAge < time.Second {
		add("chat.history.max_age %v: want at least 1s, such as \"24h\"", h.MaxAge)
	}
	if h.MaxBytes < 1024 || h.MaxBytes > 64<<20 {
		add("chat.history.max_bytes %d: want 1024 to 67108864", h.MaxBytes)
	}
	if h.Limit < 1 || h.Limit > 10000 {
		add("chat.history.limit %d: want 1 to 10000", h.Limit)
	}
	if h.MaxTotalBytes < h.MaxBytes || h.MaxTotalBytes > 1<<40 {
		add("chat.history.max_total_bytes %d: want chat.history.max_bytes (%d) to 1099511627776", h.MaxTotalBytes, h.MaxBytes)
	}
	if h.FlushInterval < time.Millisecond || h.FlushInterval > 10*time.Second {
		add("chat.history.flush_interval %v: want \"1ms\" to \"10s\"", h.FlushInterval)
	}
	if r := c.Resume; r.TTL < 0 || r.MaxClosed < 1 {
		add("chat.resume: ttl %v must not be negative (0s: off) and max_closed %d must be positive", r.TTL, r.MaxClosed)
	}
	if l.MaxMessages < l.MaxAttempts || l.MaxMessages > 100000 {
		add("chat.login.max_messages %d: want chat.login.max_attempts (%d) to 100000", l.MaxMessages, l.MaxAttempts)
	}
	if l.MaxBytes < 1024 {
		add("chat.login.max_bytes %d: want at least 1024", l.MaxBytes)
	}
	if l.AddressRate <= 0 || l.AddressBurst < 1 {
		add("chat.login: address_rate %v and address_burst %d must be positive", l.AddressRate, l.AddressBurst)
	}
	if l.AccountFailures < 1 || l.AccountWindow <= 0 {
		add("chat.login: account_failures %d and account_window %v must be positive", l.AccountFailures, l.AccountWindow)
	}
	if l.AccountFailuresTotal < l.AccountFailures {
		add("chat.login.account_failures_total %d: want at least account_failures (%d)", l.AccountFailuresTotal, l.AccountFailures)
	}
	return errors.Join(errs...)
}

// AuthConfig is chat's share of the auth: section: the pool that checks
// logins and the cap on sessions per name. Which backend checks them, and
// that backend's settings, are chosen by cmd/chatd (auth.backend), which
// hands New the built Backend.
type AuthConfig struct {
	// SessionsPerUser caps concurrent sessions per name (anonymous: always
	// 1). Default 4.
	SessionsPerUser int `yaml:"sessions_per_user"`
	// Workers is the number of logins checked at once. Default 4.
	Workers int `yaml:"workers"`
	// Queue is the number of logins waiting for a worker; past it a login
	// is answered "server busy". Default 1024.
	Queue int `yaml:"queue"`
}

// DefaultAuthConfig returns the built-in defaults of the auth: keys chat
// uses.
func DefaultAuthConfig() AuthConfig {
	return AuthConfig{SessionsPerUser: 4, Workers: 4, Queue: 1024}
}

// Validate reports every invalid field, one per line, named by its YAML key
// path (auth.…).
func (a AuthConfig) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if a.SessionsPerUser < 1 || a.SessionsPerUser > 1000 {
		add("auth.sessions_per_user %d: want 1 to 1000", a.SessionsPerUser)
	}
	if a.Workers < 1 || a.Workers > 1024 {
		add("auth.workers %d: want 1 to 1024", a.Workers)
	}
	if a.Queue < 1 {
		add("auth.queue %d: want at least 1", a.Queue)
	}
	return errors.Join(errs...)
}

// Backend is the login backend cmd/chatd selected (auth.backend), as chat
// uses it.
type Backend struct {
	// Authenticator checks the logins, on the auth pool.
	Authenticator auth.Authenticator
	// Anonymous says Authenticator does not authenticate names (the
	// anonymous backend): whoever logs in with a name would read its
	// offline mail, so none is kept unless chat.mailbox.anonymous is set.
	Anonymous bool
}
