package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Config configures event webhooks. It is the webhooks section of
// configs/chatd.yaml; chatd sends nothing unless URL is set.
type Config struct {
	// URL receives the events, as POSTs of {"events":[...]}. Empty: no
	// webhooks. Default "".
	URL string `yaml:"url"`
	// Secret signs each body: the X-Chatd-Signature header carries
	// "sha256=" and the hex HMAC-SHA256 of the body keyed by it. Empty (and
	// no SecretFile): bodies are not signed. Default "".
	Secret string `yaml:"secret"`
	// SecretFile is a file holding the secret (surrounding white space is
	// ignored), instead of Secret. Default "".
	SecretFile string `yaml:"secret_file"`
	// Timeout bounds one POST, from connecting to reading the answer's
	// status; a POST that takes longer failed and is retried. Default "5s".
	Timeout time.Duration `yaml:"timeout"`
	// BatchEvents is the most events one POST carries. Default 100.
	BatchEvents int `yaml:"batch_events"`
	// BatchWait is how long the first event of a POST waits for more to
	// share it, unless BatchEvents are queued sooner: fewer POSTs for a
	// little latency. A retry does not wait. Zero sends at once (as
	// Config{} does: New does not fill it in). Default "20ms".
	BatchWait time.Duration `yaml:"batch_wait"`
	// QueueEvents is the most events waiting for delivery, the POST in
	// flight included. Past it, new events are dropped and counted.
	// Default 10000.
	QueueEvents int `yaml:"queue_events"`
	// QueueBytes bounds the memory the waiting events hold, counted as an
	// estimate of their JSON size. Past it, new events are dropped and
	// counted. Default 8388608 (8 MiB).
	QueueBytes int `yaml:"queue_bytes"`
	// RetryMin is the wait before the first retry of a failed POST; each
	// further failure doubles it, up to RetryMax, and each wait is drawn
	// at random from its upper half (jitter). Default "500ms".
	RetryMin time.Duration `yaml:"retry_min"`
	// RetryMax is the longest wait between retries. Default "1m".
	RetryMax time.Duration `yaml:"retry_max"`
	// Durable keeps the queue in a bbolt file too, Dir/webhooks.db: new
	// events are written and delivered ones deleted every 100 ms, and what
	// is left at shutdown is written then. The next start sends what the
	// file holds first. A crash loses at most the events of the last
	// 100 ms. Default false: the queue is in memory only; what is not
	// delivered by the shutdown deadline is lost (counted, logged), and a
	// crash loses the whole queue.
	Durable bool `yaml:"durable"`
	// Dir is where the durable file goes. It is not a key of its own:
	// chatd sets it to chat.mailbox.dir.
	Dir string `yaml:"-"`
}

// Default values, as documented on the Config fields.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultBatchEvents = 100
	DefaultBatchWait   = 20 * time.Millisecond
	DefaultQueueEvents = 10000
	DefaultQueueBytes  = 8 << 20
	DefaultRetryMin    = 500 * time.Millisecond
	DefaultRetryMax    = time.Minute
)

// FileName is the durable file's name inside Config.Dir.
const FileName = "webhooks.db"

// Default returns the built-in defaults: webhooks off.
func Default() Config {
	return Config{
		Timeout:     DefaultTimeout,
		BatchEvents: DefaultBatchEvents,
		BatchWait:   DefaultBatchWait,
		QueueEvents: DefaultQueueEvents,
		QueueBytes:  DefaultQueueBytes,
		RetryMin:    DefaultRetryMin,
		RetryMax:    DefaultRetryMax,
	}
}

// withDefaults fills zero fields with their defaults, except BatchWait,
// whose zero means no wait. New applies it before Validate.
func (c Config) withDefaults() Config {
	d := Default()
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.BatchEvents == 0 {
		c.BatchEvents = d.BatchEvents
	}
	if c.QueueEvents == 0 {
		c.QueueEvents = d.QueueEvents
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = d.QueueBytes
	}
	if c.RetryMin == 0 {
		c.RetryMin = d.RetryMin
	}
	if c.RetryMax == 0 {
		c.RetryMax = d.RetryMax
	}
	return c
}

// Validate reports every invalid field, one per line, each named by its
// key in the configuration file (webhooks.<key>). An empty URL is valid:
// webhooks are off. Secret and SecretFile both set is refused by New,
// which reads the file.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.URL != "" {
		if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("webhooks.url %q: want an http:// or https:// URL such as https://backend.example.com/chatd/events", c.URL)
		}
	}
	if c.Timeout < time.Millisecond || c.Timeout > 10*time.Minute {
		add("webhooks.timeout %v: want \"1ms\" to \"10m\"", c.Timeout)
	}
	if c.BatchEvents < 1 || c.BatchEvents > 10000 {
		add("webhooks.batch_events %d: want 1 to 10000", c.BatchEvents)
	}
	if c.BatchWait < 0 || c.BatchWait > time.Minute {
		add("webhooks.batch_wait %v: want \"0s\" (send at once) to \"1m\"", c.BatchWait)
	}
	if c.QueueEvents < 1 || c.QueueEvents > 10_000_000 {
		add("webhooks.queue_events %d: want 1 to 10000000", c.QueueEvents)
	}
	if c.QueueBytes < 1024 || c.QueueBytes > 1<<30 {
		add("webhooks.queue_bytes %d: want 1024 to 1073741824 (1 GiB)", c.QueueBytes)
	}
	if c.RetryMin < time.Millisecond || c.RetryMin > time.Hour {
		add("webhooks.retry_min %v: want \"1ms\" to \"1h\"", c.RetryMin)
	}
	if c.RetryMax < c.RetryMin || c.RetryMax > 24*time.Hour {
		add("webhooks.retry_max %v: want webhooks.retry_min (%v) to \"24h\"", c.RetryMax, c.RetryMin)
	}
	return errors.Join(errs...)
}
