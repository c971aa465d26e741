package mailbox

import (
	"errors"
	"fmt"
	"time"
)

// Config configures the offline mailbox. It is the chat.mailbox section of
// configs/chatd.yaml.
type Config struct {
	// Dir holds the store's single file, Dir/mailbox.db. It is created with
	// mode 0700 if missing; the file is created with mode 0600.
	// Default "./data".
	Dir string `yaml:"dir"`
	// MaxMessages is the most messages one user's mailbox holds. A Put
	// beyond it fails with ErrFull; nothing is dropped to make room, except
	// messages that have already expired. Default 1000.
	MaxMessages int `yaml:"max_messages"`
	// MaxAge is how long a message waits for its recipient. Older messages
	// are dropped without being delivered: expiry is the one way a message
	// leaves a mailbox without being delivered, and every expired message
	// is counted (Stats.Expired) and logged. Default "168h" (7 days).
	MaxAge time.Duration `yaml:"max_age"`
}

// Default values, as documented on the Config fields.
const (
	DefaultDir         = "./data"
	DefaultMaxMessages = 1000
	DefaultMaxAge      = 7 * 24 * time.Hour
)

// Bounds checked by Validate.
const (
	maxMaxMessages = 1_000_000
	minMaxAge      = time.Second
)

// FileName is the name of the store's file inside Config.Dir.
const FileName = "mailbox.db"

// Default returns the built-in defaults.
func Default() Config {
	return Config{Dir: DefaultDir, MaxMessages: DefaultMaxMessages, MaxAge: DefaultMaxAge}
}

// withDefaults fills zero fields with their defaults. Open applies it
// before Validate, so Config{} opens ./data/mailbox.db with the defaults.
func (c Config) withDefaults() Config {
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if c.MaxMessages == 0 {
		c.MaxMessages = DefaultMaxMessages
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	return c
}

// Validate reports every invalid field, one per line, each named by its
// key in the configuration file (chat.mailbox.<key>).
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Dir == "" {
		add("chat.mailbox.dir: want a directory such as %q", DefaultDir)
	}
	if c.MaxMessages < 1 || c.MaxMessages > maxMaxMessages {
		add("chat.mailbox.max_messages %d: want 1 to %d", c.MaxMessages, maxMaxMessages)
	}
	if c.MaxAge < minMaxAge {
		add("chat.mailbox.max_age %v: want at least %v, such as \"168h\"", c.MaxAge, minMaxAge)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid mailbox config:\n%w", errors.Join(errs...))
	}
	return nil
}
