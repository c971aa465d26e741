package api

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/chatd/chatd/auth"
)

// Config is the api: section of chatd's configuration.
type Config struct {
	// Listen is the API's own TCP address. Default "127.0.0.1:8081".
	Listen string `yaml:"listen"`
	// Key is the bearer key backends present. Empty (with KeyFile empty)
	// leaves the API off. Default "".
	Key string `yaml:"key"`
	// KeyFile holds the key instead (surrounding whitespace is dropped), so
	// it need not sit in the config file. Setting both is an error when
	// chatd starts. Default "".
	KeyFile string `yaml:"key_file"`
	// Sender is the name API messages carry as their sender. While the API
	// is on, no user may log in with it (or a name that looks the same).
	// Default "system".
	Sender string `yaml:"sender"`
	// MaxBodyBytes caps a request body; a bigger one gets 413.
	// Default 65536.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// PageLimit is the default and largest "limit" of the list endpoints.
	// Default 1000.
	PageLimit int `yaml:"page_limit"`
	// MaxInFlight caps the requests being handled at once; one past it
	// gets 503 with Retry-After. Default 256.
	MaxInFlight int `yaml:"max_in_flight"`
	// MaxConnections caps the connections open to api.listen; past it new
	// ones wait in the kernel's accept backlog until one closes. Default
	// 1024.
	MaxConnections int `yaml:"max_connections"`
	// SendTimeout bounds how long POST /api/send waits to learn whether the
	// message was delivered or stored; past it the answer is 504 and the
	// outcome is unknown. Default "10s".
	SendTimeout time.Duration `yaml:"send_timeout"`
	// ShutdownTimeout bounds the wait for requests in flight when chatd
	// stops. Default "5s".
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// MinKeyBytes is the shortest key accepted.
const MinKeyBytes = 16

// Default returns the built-in defaults: the API off.
func Default() Config {
	return Config{
		Listen:          "127.0.0.1:8081",
		Sender:          "system",
		MaxBodyBytes:    64 << 10,
		PageLimit:       1000,
		MaxInFlight:     256,
		MaxConnections:  1024,
		SendTimeout:     10 * time.Second,
		ShutdownTimeout: 5 * time.Second,
	}
}

// Enabled reports whether a key is configured.
func (c Config) Enabled() bool { return c.Key != "" || c.KeyFile != "" }

// Validate reports every invalid field.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Key != "" && len(c.Key) < MinKeyBytes {
		add("api.key: want at least %d bytes", MinKeyBytes)
	}
	if c.Key != "" && strings.TrimSpace(c.Key) != c.Key {
		add("api.key: leading or trailing whitespace")
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		add("api.listen %q: want host:port (%v)", c.Listen, err)
	} else if _, err := net.LookupPort("tcp", port); err != nil {
		add("api.listen %q: want a port from 0 to 65535 (%v)", c.Listen, err)
	}
	if name, err := auth.CanonicalName(c.Sender); err != nil {
		reason, _ := auth.IsRejection(err)
		add("api.sender %q: %s", c.Sender, reason)
	} else if name != c.Sender {
		add("api.sender %q: not in canonical form (want %q)", c.Sender, name)
	}
	if c.MaxBodyBytes < 64 || c.MaxBodyBytes > 64<<20 {
		add("api.max_body_bytes %d: want 64 to 67108864", c.MaxBodyBytes)
	}
	if c.PageLimit < 1 || c.PageLimit > 100000 {
		add("api.page_limit %d: want 1 to 100000", c.PageLimit)
	}
	if c.MaxInFlight < 1 || c.MaxInFlight > 100000 {
		add("api.max_in_flight %d: want 1 to 100000", c.MaxInFlight)
	}
	if c.MaxConnections < 1 || c.MaxConnections > 1000000 {
		add("api.max_connections %d: want 1 to 1000000", c.MaxConnections)
	}
	if c.SendTimeout < time.Millisecond || c.SendTimeout > time.Hour {
		add("api.send_timeout %v: want \"1ms\" to \"1h\"", c.SendTimeout)
	}
	if c.ShutdownTimeout <= 0 {
		add("api.shutdown_timeout %v: want a positive duration such as \"5s\"", c.ShutdownTimeout)
	}
	return errors.Join(errs...)
}

// LoadKey returns the key: Key, or KeyFile's content without surrounding
// whitespace. It fails when both are set (checked here, at start, rather
// than in Validate, so that a test file may set every key), or when the
// file cannot be read or holds too short a key.
func (c Config) LoadKey() (string, error) {
	if c.Key != "" && c.KeyFile != "" {
		return "", errors.New("api.key and api.key_file: set one, not both")
	}
	if c.KeyFile == "" {
		return c.Key, nil
	}
	b, err := os.ReadFile(c.KeyFile)
	if err != nil {
		return "", fmt.Errorf("api.key_file: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if len(key) < MinKeyBytes {
		return "", fmt.Errorf("api.key_file %s: want a key of at least %d bytes", c.KeyFile, MinKeyBytes)
	}
	return key, nil
}
