package chat

import (
	"fmt"

	"golang.org/x/time/rate"
)

// liveConfig is the part of Config a running Service takes on again
// (Reconfigure). Immutable once stored: sessions, on their event loops,
// load the pointer where they use a value, so one use never mixes two
// configurations.
type liveConfig struct {
	rate  RateConfig
	login LoginConfig // only the fields Reconfigure documents are read from here
	rooms RoomsConfig // likewise
}

// live returns the configuration in force. Safe on any goroutine.
func (s *Service) live() *liveConfig { return s.liveCfg.Load() }

// Reconfigure makes the service use the settings of cfg a running service
// can change, and ignores the others (they keep the values New was given).
// cfg must be valid as a whole; an invalid one changes nothing.
//
//   - chat.rate.messages_per_second and burst: for each session's rate
//     limiter made after the call, that is for sessions that send their
//     first message after it; a session's limiter is never resized.
//   - chat.rate.max_rejected and window: at a session's next rejected
//     message.
//   - chat.login.max_attempts, failure_delay, max_failure_delay,
//     max_messages and max_bytes: at a connection's next login attempt or
//     pre-login message, for connections open as for new ones (a lowered
//     max_attempts closes a connection that has used it up at its next
//     failure).
//   - chat.rooms.max_per_session: at a session's next join (a session over
//     a lowered cap keeps its rooms; it cannot join more until it is under
//     it); list_limit and who_limit: for the next rooms and who requests.
//
// chat.login.timeout (the login timer, and the backend's deadline) and
// everything else need a restart. The login throttle (address_*,
// account_*) is not the service's: its owner changes it
// (throttle.Throttle.SetConfig). Safe for concurrent use.
func (s *Service) Reconfigure(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid config:\n%w", err)
	}
	s.liveCfg.Store(&liveConfig{rate: cfg.Rate, login: cfg.Login, rooms: cfg.Rooms})
	return nil
}

func (s *Service) newLimiter() *rate.Limiter {
	rc := s.live().rate
	return rate.NewLimiter(rate.Limit(rc.MessagesPerSecond), rc.Burst)
}
