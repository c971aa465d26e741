package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/chatd/chatd/bench/wsconn"
)

// Scenario names.
const (
	Connect = "connect"
	Idle    = "idle"
	Echo    = "echo"
	Private = "private"
	Room    = "room"
	Mailbox = "mailbox"
)

// Names lists the scenarios.
var Names = []string{Connect, Idle, Echo, Private, Room, Mailbox, Soak}

// MaxConnsPerProc keeps one client process under the 20,000 open-file cap
// with room for its own descriptors.
const MaxConnsPerProc = 19000

// Config is one run. Zero fields take the scenario's default (WithDefaults);
// the yaml keys are the flag names with '_' for '-'.
type Config struct {
	Scenario string `yaml:"scenario"` // connect, idle, echo, private, room or mailbox
	// URL of the endpoint, or of several separated by commas (the nodes of
	// a cluster), all with the same path: the users are spread over them
	// (spread.go). Default ws://127.0.0.1:8080/ws, or …/echo for echo.
	URL string `yaml:"url"`
	// PIDs of the server processes, sampled from /proc and summed. Default
	// none: not sampled.
	PIDs PIDs `yaml:"pid"`
	// Procs is the number of client processes. Default: enough for at most
	// 19,000 connections each.
	Procs int `yaml:"procs"`
	// Src is the first source address. Default 127.0.0.2.
	Src string `yaml:"src"`
	// PerSrc is the most connections per source address. Default 15000.
	PerSrc int `yaml:"per_src"`
	// Dials is the number of concurrent dials per process. Default 256.
	Dials int `yaml:"dials"`
	// Timeout bounds one connect+handshake+login, and one join. Default "10s".
	Timeout Duration `yaml:"timeout"`
	// TLSCA is a PEM file of the CAs that sign a wss:// server's
	// certificate (default: the system's). wss:// URLs only.
	TLSCA string `yaml:"tls_ca"`
	// TLSInsecure skips verifying a wss:// server's certificate (a
	// self-signed one under test). Default false.
	TLSInsecure bool `yaml:"tls_insecure"`

	// N is the number of connections: connect, idle, echo (C), private,
	// room (members M), mailbox (offline users). Default per scenario.
	N int `yaml:"n"`
	// Rate: connect: connections/s (0: as fast as Dials allow); echo:
	// round trips/s in all (0: closed loop); private, room: messages/s in
	// all; mailbox: messages/s while storing. Default per scenario.
	Rate float64 `yaml:"rate"`
	// Duration: idle: the hold; echo, private, room: the measured sending
	// time (after Warmup). Default "10s".
	Duration Duration `yaml:"duration"`
	// Warmup is sent but not measured. Default "2s" for echo, else 0.
	Warmup Duration `yaml:"warmup"`
	// Size is the payload in bytes. Default 32 for echo, 64 otherwise. A
	// chat payload is at least its header (sender, stream, sequence number,
	// send time: 20–50 bytes); Size pads it.
	Size int `yaml:"size"`
	// Receiver is "partner" (user i writes to i+N/2) or "random". private.
	Receiver string `yaml:"receiver"`
	// Room is the room of the room scenario. Default "lobby": every
	// connection is in it and publishers send plain text, which any server
	// of the chat subset understands. Another name makes members join it.
	RoomName string `yaml:"room"`
	// Publishers among the room members. Default 1.
	Publishers int `yaml:"publishers"`
	// Observers are extra connections that do not join the room and must
	// receive none of its messages (not with the lobby). Default 0.
	Observers int `yaml:"observers"`
	// Messages is K, the messages stored for offline users. mailbox; default 10000.
	Messages int `yaml:"messages"`
	// Senders write the stored messages. mailbox; default 10.
	Senders int `yaml:"senders"`
	// Login: connect and idle log in on /ws with a plain-text name. Default
	// true when the URL path is /ws.
	Login *bool `yaml:"login"`
	// Drain is the longest wait for late deliveries after sending. Default "10s".
	Drain Duration `yaml:"drain"`
	// Quiet ends the drain early once nothing arrived for this long. Default "1s".
	Quiet Duration `yaml:"quiet"`
	// Interval is the server sampling interval and the step of the time
	// series (plots). Default "1s".
	Interval Duration `yaml:"interval"`

	// Out is the JSON report file. Default "": none.
	Out string `yaml:"out"`
	// Plots is a directory for PNG plots. Default "": none.
	Plots string `yaml:"plots"`
	// Tag makes user names unique to the run: "cb<tag>-<i>". Default random.
	Tag string `yaml:"tag"`

	// SoakConfig is the soak scenario's traffic mix and verdict limits.
	SoakConfig `yaml:",inline"`
}

// Duration is a time.Duration written in YAML as a string such as "5s".
type Duration time.Duration

// UnmarshalYAML accepts only strings with a unit.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Tag != "!!str" {
		return fmt.Errorf("line %d: duration %q needs a unit, as a string such as \"5s\"", n.Line, n.Value)
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D is d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// LoadFile reads a YAML config strictly (unknown keys are errors) over base.
func LoadFile(path string, base Config) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return base, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&base); err != nil {
		return base, fmt.Errorf("%s: %w", path, err)
	}
	return base, nil
}

// WithDefaults fills the zero fields with the scenario's defaults.
func (c Config) WithDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *Duration, d time.Duration) {
		if *v == 0 {
			*v = Duration(d)
		}
	}
	if c.Scenario == Soak { // before the common defaults: other Interval and Duration
		c = c.soakDefaults()
	}
	if c.URL == "" {
		c.URL = "ws://127.0.0.1:8080/ws"
		if c.Scenario == Echo {
			c.URL = "ws://127.0.0.1:8080/echo"
		}
	}
	c.URL = strings.Join(c.URLs(), ",")
	if c.Src == "" {
		c.Src = "127.0.0.2"
	}
	def(&c.PerSrc, wsconn.DefaultPerSource)
	def(&c.Dials, 256)
	defD(&c.Timeout, 10*time.Second)
	defD(&c.Duration, 10*time.Second)
	defD(&c.Drain, 10*time.Second)
	defD(&c.Quiet, time.Second)
	defD(&c.Interval, time.Second)
	switch c.Scenario {
	case Connect, Idle:
		def(&c.N, 1000)
	case Echo:
		def(&c.N, 100)
		def(&c.Size, 32)
		defD(&c.Warmup, 2*time.Second)
	case Private:
		def(&c.N, 1000)
		if c.Rate == 0 {
			c.Rate = 1000
		}
		if c.Receiver == "" {
			c.Receiver = "partner"
		}
	case Room:
		def(&c.N, 1000)
		def(&c.Publishers, 1)
		if c.Rate == 0 {
			c.Rate = 10
		}
		if c.RoomName == "" {
			c.RoomName = "lobby"
		}
	case Mailbox:
		def(&c.N, 100)
		def(&c.Senders, 10)
		def(&c.Messages, 10000)
		if c.Rate == 0 {
			c.Rate = 2000
		}
	}
	def(&c.Size, 64)
	if c.Login == nil {
		login := strings.HasSuffix(c.path(), "/ws")
		c.Login = &login
	}
	if c.Procs == 0 {
		c.Procs = (c.Users() + MaxConnsPerProc - 1) / MaxConnsPerProc
	}
	return c
}

// path is the path of the first URL (Validate makes every URL's the same).
func (c Config) path() string {
	urls := c.URLs()
	if len(urls) == 0 {
		return ""
	}
	u, err := url.Parse(urls[0])
	if err != nil {
		return ""
	}
	return u.Path
}

// Users is the number of connections (users) in the whole run.
func (c Config) Users() int {
	switch c.Scenario {
	case Room:
		return c.N + c.Observers
	case Mailbox:
		return c.Senders + c.N
	default:
		return c.N
	}
}

// Validate checks a config that went through WithDefaults.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Scenario {
	case Connect, Idle, Echo, Private, Room, Mailbox, Soak:
	case "":
		bad("no scenario: want one of %s", strings.Join(Names, ", "))
	default:
		bad("scenario %q: want one of %s", c.Scenario, strings.Join(Names, ", "))
	}
	errs = append(errs, c.validateURLs()...)
	if err := c.PIDs.validate(); err != nil {
		errs = append(errs, err)
	}
	if a, err := netip.ParseAddr(c.Src); err != nil || !a.Is4() || !a.IsLoopback() {
		bad("src %q: want an IPv4 loopback address such as 127.0.0.2", c.Src)
	}
	if c.PerSrc < 1 || c.PerSrc > 28000 {
		bad("per_src %d: want 1 to 28000 (one address has ~28k ephemeral ports)", c.PerSrc)
	}
	if c.N < 1 || c.Dials < 1 || c.Procs < 1 {
		bad("n, dials and procs must be at least 1")
	}
	if c.Procs < 1 {
		return errors.Join(errs...)
	}
	if per := (c.Users() + c.Procs - 1) / c.Procs; per > MaxConnsPerProc {
		bad("%d connections over %d process(es) is %d each; at most %d fit under the 20,000 open files of a process",
			c.Users(), c.Procs, per, MaxConnsPerProc)
	}
	if c.Procs > c.Users() {
		bad("procs %d is more than the %d connections", c.Procs, c.Users())
	}
	if c.Rate < 0 || c.Size < 1 || c.Size > 1<<20 {
		bad("rate must not be negative, size must be 1 to 1048576")
	}
	if c.Duration <= 0 || c.Warmup < 0 || c.Drain <= 0 || c.Quiet <= 0 || c.Interval <= 0 || c.Timeout <= 0 {
		bad("durations must be positive (warmup may be 0)")
	}
	switch c.Scenario {
	case Echo:
		if c.Size < echoHeader {
			bad("echo size %d: at least %d bytes (sequence number and send time)", c.Size, echoHeader)
		}
	case Private:
		if c.N < 2 {
			bad("private needs at least 2 users")
		}
		if c.Receiver != "partner" && c.Receiver != "random" {
			bad("receiver %q: want partner or random", c.Receiver)
		}
		if c.Rate <= 0 {
			bad("private needs a rate")
		}
	case Room:
		if c.Publishers < 1 || c.Publishers > c.N {
			bad("publishers %d: want 1 to n (%d)", c.Publishers, c.N)
		}
		if c.RoomName == "lobby" && c.Observers > 0 {
			bad("observers need a room other than the lobby (every connection is in the lobby)")
		}
		if c.Rate <= 0 {
			bad("room needs a rate")
		}
	case Mailbox:
		if c.Senders < 1 || c.Messages < 1 || c.Rate <= 0 {
			bad("mailbox needs senders, messages and a rate")
		}
	case Soak:
		if err := c.validateSoak(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Scenario != Echo && c.Scenario != Connect && c.Scenario != Idle && (c.Login == nil || !*c.Login) {
		bad("%s needs a chat endpoint with login (a URL ending in /ws)", c.Scenario)
	}
	if len(c.Tag) > 8 || strings.ContainsAny(c.Tag, " \t\n:|\"\\") {
		bad("tag %q: at most 8 characters, no spaces, ':', '|', quotes or backslashes", c.Tag)
	}
	return errors.Join(errs...)
}
