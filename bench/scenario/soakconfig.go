package scenario

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Soak is the scenario name of chatbench soak.
const Soak = "soak"

// SoakConfig is the soak scenario's part of a Config (inline in its YAML:
// the keys are the flag names with '_' for '-'). Zero fields take the
// defaults of WithDefaults.
//
// The traffic is per second for the whole run and split over the worker
// processes; Rate (messages/s) is the private and room messages together.
type SoakConfig struct {
	// LobbyRate is lobby messages per second in all. Each goes to every
	// online user, so it is the costly kind. Default 0.2.
	LobbyRate float64 `yaml:"lobby_rate"`
	// RoomShare is the share of Rate that goes to rooms (the rest is
	// private). Default 0.3.
	RoomShare float64 `yaml:"room_share"`
	// OfflineShare is the share of private messages addressed to a user
	// who is logged out at the time (when the worker has one). Default 0.1.
	OfflineShare float64 `yaml:"offline_share"`
	// Churn is the fraction of the users that log out each minute; each
	// logs in again after about Offline. Default 0.02.
	Churn float64 `yaml:"churn"`
	// Offline is the mean time a user stays logged out (uniform from half
	// to one and a half of it). Default "15s".
	Offline Duration `yaml:"offline"`
	// Drops is the fraction of the users whose TCP connection is dropped
	// each minute without a close, and who log in again at once with
	// resume and since. Default 0.01.
	Drops float64 `yaml:"drops"`
	// Moves is the fraction of the users that leave a room and join
	// another each minute. Default 0.05.
	Moves float64 `yaml:"moves"`
	// RoomSize is the mean number of members of a room: each worker has
	// its users' rooms, users×RoomsPerUser/RoomSize of them. Default 50.
	RoomSize int `yaml:"room_size"`
	// RoomsPerUser is how many rooms (besides the lobby) each user is in.
	// Default 2.
	RoomsPerUser int `yaml:"rooms_per_user"`
	// ConnectRate is the logins per second in all while the population
	// comes up. Default 1000.
	ConnectRate float64 `yaml:"connect_rate"`
	// Deadline is how late a promised message may be before it counts as
	// lost (counted from its "sent" reply, or from the receiver's next
	// login for stored ones). Default "10s".
	Deadline Duration `yaml:"deadline"`
	// Admin is the base URL of chatd's admin listener
	// (http://127.0.0.1:9090): /metrics gives the goroutines. Default
	// none: goroutines are not sampled, and the report says so.
	Admin string `yaml:"admin"`
	// WarmupShare is the share of Duration before the flatness verdict
	// starts, when Warmup is not set. Default 0.2.
	WarmupShare float64 `yaml:"warmup_share"`
	// Limits of the flatness verdict (package trend): the last quarter's
	// median after the warm-up may be at most Ratio × the first quarter's
	// + Slack. Defaults: RSS ×1.05 + 8 MiB, fds ×1.01 + 20, goroutines
	// ×1.05 + 50, per-interval p99 ×2 + 10 ms.
	RSSRatio       float64 `yaml:"rss_ratio"`
	RSSSlackMiB    float64 `yaml:"rss_slack_mib"`
	FDRatio        float64 `yaml:"fd_ratio"`
	FDSlack        float64 `yaml:"fd_slack"`
	GoroutineRatio float64 `yaml:"goroutine_ratio"`
	GoroutineSlack float64 `yaml:"goroutine_slack"`
	P99Ratio       float64 `yaml:"p99_ratio"`
	P99SlackMillis float64 `yaml:"p99_slack_ms"`
}

// soakDefaults fills the soak fields of c (Scenario == Soak).
func (c Config) soakDefaults() Config {
	f := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	s := &c.SoakConfig
	if c.N == 0 {
		c.N = 1000
	}
	f(&c.Rate, 200)
	if c.Interval == 0 {
		c.Interval = Duration(5 * time.Second)
	}
	if c.Duration == 0 {
		c.Duration = Duration(time.Minute)
	}
	f(&s.LobbyRate, 0.2)
	f(&s.RoomShare, 0.3)
	f(&s.OfflineShare, 0.1)
	f(&s.Churn, 0.02)
	f(&s.Drops, 0.01)
	f(&s.Moves, 0.05)
	f(&s.ConnectRate, 1000)
	f(&s.WarmupShare, 0.2)
	if s.Offline == 0 {
		s.Offline = Duration(15 * time.Second)
	}
	if s.Deadline == 0 {
		s.Deadline = Duration(10 * time.Second)
	}
	if s.RoomSize == 0 {
		s.RoomSize = 50
	}
	if s.RoomsPerUser == 0 {
		s.RoomsPerUser = 2
	}
	if c.Warmup == 0 {
		c.Warmup = Duration(float64(c.Duration) * s.WarmupShare)
	}
	f(&s.RSSRatio, 1.05)
	f(&s.RSSSlackMiB, 8)
	f(&s.FDRatio, 1.01)
	f(&s.FDSlack, 20)
	f(&s.GoroutineRatio, 1.05)
	f(&s.GoroutineSlack, 50)
	f(&s.P99Ratio, 2)
	f(&s.P99SlackMillis, 10)
	return c
}

// validateSoak checks the soak fields.
func (c Config) validateSoak() error {
	var errs []error
	s := c.SoakConfig
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.N < 4 {
		bad("soak needs at least 4 users")
	}
	if c.Rate < 0 || s.LobbyRate < 0 || s.Churn < 0 || s.Drops < 0 || s.Moves < 0 || s.ConnectRate <= 0 {
		bad("soak rates must not be negative (connect_rate positive)")
	}
	if s.RoomShare < 0 || s.RoomShare > 1 || s.OfflineShare < 0 || s.OfflineShare > 1 || s.WarmupShare < 0 || s.WarmupShare >= 1 {
		bad("room_share, offline_share and warmup_share are fractions from 0 to 1")
	}
	if s.Churn > 1 || s.Drops > 1 || s.Moves > 1 {
		bad("churn, drops and moves are fractions of the users per minute, at most 1")
	}
	if s.RoomSize < 2 || s.RoomsPerUser < 0 || s.RoomsPerUser > 16 {
		bad("room_size at least 2, rooms_per_user 0 to 16")
	}
	if s.Offline <= 0 || s.Deadline <= 0 {
		bad("offline and deadline must be positive")
	}
	if c.Warmup >= c.Duration {
		bad("warmup %v must be shorter than the run (%v)", c.Warmup.D(), c.Duration.D())
	}
	if s.Admin != "" {
		if u, err := url.Parse(s.Admin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("admin %q: want the admin listener's base URL, such as http://127.0.0.1:9090", s.Admin)
		}
	}
	return errors.Join(errs...)
}
