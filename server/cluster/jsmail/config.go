package jsmail

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/chatd/chatd/server/mailbox"
)

// Config configures the JetStream mailbox. The quotas are chat.mailbox's,
// with the same meaning and defaults as for the bbolt store (mailbox.Config),
// except that mailbox.Config.Dir is ignored: JetStream keeps the data in
// the NATS server's store directory. It is a plain struct of yaml-tagged
// values, so the cluster section can embed it.
type Config struct {
	// Quotas and ages, chat.mailbox's keys. Dir is ignored.
	mailbox.Config `yaml:",inline"`
	// Replicas is the JetStream replica count of the mail stream and the
	// last-seen bucket: 1 on a single NATS server, 3 in a 3-node mesh.
	// Default 1. Allowed 1 to 5.
	Replicas int `yaml:"replicas"`
	// Prefix names what Open creates: the stream Prefix_mail with subjects
	// Prefix.mail.<user>, and the key-value bucket Prefix_seen. Two chat
	// deployments sharing one NATS account need different prefixes.
	// Default "chatd". Letters, digits, '-' and '_', at most 32.
	Prefix string `yaml:"prefix"`
	// Timeout bounds each method's requests to JetStream, all retries
	// included. Default "5s".
	Timeout time.Duration `yaml:"timeout"`
}

// Defaults of the fields Config adds to mailbox.Config.
const (
	DefaultReplicas = 1
	DefaultPrefix   = "chatd"
	DefaultTimeout  = 5 * time.Second
)

const maxReplicas = 5

var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Default returns the built-in defaults.
func Default() Config {
	return Config{Config: mailbox.Default(), Replicas: DefaultReplicas, Prefix: DefaultPrefix, Timeout: DefaultTimeout}
}

// withDefaults fills zero fields with their defaults; Open applies it
// before Validate.
func (c Config) withDefaults() Config {
	d := Default()
	m := &c.Config
	if m.MaxMessages == 0 {
		m.MaxMessages = d.MaxMessages
	}
	if m.MaxBytes == 0 {
		m.MaxBytes = d.MaxBytes
	}
	if m.MaxBytesPerSender == 0 {
		m.MaxBytesPerSender = d.MaxBytesPerSender
	}
	if m.MaxTotalBytes == 0 {
		m.MaxTotalBytes = d.MaxTotalBytes
	}
	if m.MaxAge == 0 {
		m.MaxAge = d.MaxAge
	}
	if m.SeenMaxAge == 0 {
		m.SeenMaxAge = d.SeenMaxAge
	}
	if c.Replicas == 0 {
		c.Replicas = d.Replicas
	}
	if c.Prefix == "" {
		c.Prefix = d.Prefix
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	return c
}

// Validate reports every invalid field: the quotas as mailbox.Config does
// (keys chat.mailbox.<key>), then the fields Config adds.
func (c Config) Validate() error {
	var errs []error
	m := c.Config
	if m.Dir == "" {
		m.Dir = mailbox.DefaultDir // ignored here, but mailbox.Config wants one
	}
	if err := m.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Replicas < 1 || c.Replicas > maxReplicas {
		errs = append(errs, fmt.Errorf("replicas %d: want 1 to %d", c.Replicas, maxReplicas))
	}
	if !prefixRE.MatchString(c.Prefix) {
		errs = append(errs, fmt.Errorf("prefix %q: want 1 to 32 letters, digits, '-' or '_'", c.Prefix))
	}
	if c.Timeout < time.Millisecond {
		errs = append(errs, fmt.Errorf("timeout %v: want at least 1ms, such as \"5s\"", c.Timeout))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid jetstream mailbox config:\n%w", errors.Join(errs...))
	}
	return nil
}

// StreamName is the name of the stream holding the mailboxes.
func (c Config) StreamName() string { return c.Prefix + "_mail" }

// SeenBucket is the name of the key-value bucket holding last-seen times.
func (c Config) SeenBucket() string { return c.Prefix + "_seen" }
