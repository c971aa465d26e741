package mailbox

import (
	"errors"
	"fmt"
	"time"
)

// Config configures the offline mailbox. It is the chat.mailbox section of
// configs/chatd.yaml. It is a plain struct of yaml-tagged values with no
// decoding methods, so another section may embed it with `yaml:",inline"`.
//
// Sizes count only the messages' Data, len(Entry.Data): the few bytes per
// entry of stored time, sender and bbolt overhead are not counted.
type Config struct {
	// Dir holds the store's single file, Dir/mailbox.db. It is created with
	// mode 0700 if missing; the file is created with mode 0600.
	// Default "./data".
	Dir string `yaml:"dir"`
	// MaxMessages is the most messages one user's mailbox holds. A Put
	// beyond it fails with ErrFull; nothing is dropped to make room, except
	// messages that have already expired. Default 1000.
	MaxMessages int `yaml:"max_messages"`
	// MaxBytes is the most bytes of messages one user's mailbox holds. A Put
	// beyond it fails with ErrFull, like MaxMessages. Default 16 MiB
	// (16777216). Allowed 1 to 1 GiB, and at most MaxTotalBytes. A Load
	// holds up to this much in memory.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxBytesPerSender is the most bytes of messages from one sender that
	// one user's mailbox holds, so one sender cannot fill another user's
	// mailbox. A Put beyond it fails with ErrSenderQuota. Default 1 MiB
	// (1048576). Allowed 1 to MaxBytes.
	MaxBytesPerSender int64 `yaml:"max_bytes_per_sender"`
	// MaxTotalBytes is the most bytes of messages the whole store holds,
	// over all mailboxes. A Put beyond it fails with ErrStoreFull.
	// Default 1 GiB (1073741824). Allowed 1 to 1 TiB.
	MaxTotalBytes int64 `yaml:"max_total_bytes"`
	// MaxAge is how long a message waits for its recipient. Older messages
	// are dropped without being delivered: expiry is the one way a message
	// leaves a mailbox without being delivered, and every expired message
	// is counted (Stats.Expired) and logged. Default "168h" (7 days).
	MaxAge time.Duration `yaml:"max_age"`
	// SeenMaxAge is how long a user's last-seen time (SetSeen) is kept.
	// Seen reports nothing older, and Prune deletes older records, so the
	// names of users who stopped coming do not pile up. Default "720h"
	// (30 days).
	SeenMaxAge time.Duration `yaml:"seen_max_age"`
}

// Default values, as documented on the Config fields.
const (
	DefaultDir               = "./data"
	DefaultMaxMessages       = 1000
	DefaultMaxBytes          = 16 << 20
	DefaultMaxBytesPerSender = 1 << 20
	DefaultMaxTotalBytes     = 1 << 30
	DefaultMaxAge            = 7 * 24 * time.Hour
	DefaultSeenMaxAge        = 30 * 24 * time.Hour
)

// Bounds checked by Validate.
const (
	maxMaxMessages   = 1_000_000
	maxMaxBytes      = 1 << 30 // a Load holds a whole mailbox in memory
	maxMaxTotalBytes = 1 << 40
	minMaxAge        = time.Second
)

// FileName is the name of the store's file inside Config.Dir.
const FileName = "mailbox.db"

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Dir:               DefaultDir,
		MaxMessages:       DefaultMaxMessages,
		MaxBytes:          DefaultMaxBytes,
		MaxBytesPerSender: DefaultMaxBytesPerSender,
		MaxTotalBytes:     DefaultMaxTotalBytes,
		MaxAge:            DefaultMaxAge,
		SeenMaxAge:        DefaultSeenMaxAge,
	}
}

// withDefaults fills zero fields with their defaults. Open applies it
// before Validate, so Config{} opens ./data/mailbox.db with the defaults.
func (c Config) withDefaults() Config {
	d := Default()
	if c.Dir == "" {
		c.Dir = d.Dir
	}
	if c.MaxMessages == 0 {
		c.MaxMessages = d.MaxMessages
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.MaxBytesPerSender == 0 {
		c.MaxBytesPerSender = d.MaxBytesPerSender
	}
	if c.MaxTotalBytes == 0 {
		c.MaxTotalBytes = d.MaxTotalBytes
	}
	if c.MaxAge == 0 {
		c.MaxAge = d.MaxAge
	}
	if c.SeenMaxAge == 0 {
		c.SeenMaxAge = d.SeenMaxAge
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
	sizes := true // each size is in range on its own, so their order can be checked
	if c.MaxBytes < 1 || c.MaxBytes > maxMaxBytes {
		add("chat.mailbox.max_bytes %d: want 1 to %d (1 GiB)", c.MaxBytes, maxMaxBytes)
		sizes = false
	}
	if c.MaxBytesPerSender < 1 || c.MaxBytesPerSender > maxMaxBytes {
		add("chat.mailbox.max_bytes_per_sender %d: want 1 to %d (1 GiB)", c.MaxBytesPerSender, maxMaxBytes)
		sizes = false
	}
	if c.MaxTotalBytes < 1 || c.MaxTotalBytes > maxMaxTotalBytes {
		add("chat.mailbox.max_total_bytes %d: want 1 to %d (1 TiB)", c.MaxTotalBytes, int64(maxMaxTotalBytes))
		sizes = false
	}
	if sizes && c.MaxBytesPerSender > c.MaxBytes {
		add("chat.mailbox.max_bytes_per_sender %d: want at most chat.mailbox.max_bytes (%d)", c.MaxBytesPerSender, c.MaxBytes)
	}
	if sizes && c.MaxBytes > c.MaxTotalBytes {
		add("chat.mailbox.max_bytes %d: want at most chat.mailbox.max_total_bytes (%d)", c.MaxBytes, c.MaxTotalBytes)
	}
	if c.MaxAge < minMaxAge {
		add("chat.mailbox.max_age %v: want at least %v, such as \"168h\"", c.MaxAge, minMaxAge)
	}
	if c.SeenMaxAge < minMaxAge {
		add("chat.mailbox.seen_max_age %v: want at least %v, such as \"720h\"", c.SeenMaxAge, minMaxAge)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid mailbox config:\n%w", errors.Join(errs...))
	}
	return nil
}
