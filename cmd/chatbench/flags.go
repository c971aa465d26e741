package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/bench/scenario"
)

// boolPtr is a flag.Value for *bool fields (unset means default).
type boolPtr struct{ p **bool }

func (b boolPtr) String() string {
	if b.p == nil || *b.p == nil {
		return ""
	}
	return strconv.FormatBool(**b.p)
}

func (b boolPtr) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*b.p = &v
	return nil
}

func (b boolPtr) IsBoolFlag() bool { return true }

// bind defines the scenario flags on fs, writing into c.
func bind(fs *flag.FlagSet, c *scenario.Config) *string {
	dur := func(p *scenario.Duration, name, usage string) {
		fs.DurationVar((*time.Duration)(p), name, time.Duration(*p), usage)
	}
	config := fs.String("config", "", "YAML `file` with the run (configs/chatbench-*.yaml); flags override it")
	fs.StringVar(&c.Scenario, "scenario", c.Scenario, "`name`: "+strings.Join(scenario.Names, ", ")+" (or the first argument)")
	fs.StringVar(&c.URL, "url", c.URL, "endpoint `URL` (default ws://127.0.0.1:8080/ws, /echo for echo); several, comma-separated, spread the users over them (see chatbench help)")
	fs.Var(&c.PIDs, "pid", "server `PID` to sample from /proc (RSS, fds, threads, CPU); several, comma-separated, are summed")
	fs.StringVar(&c.TLSCA, "tls-ca", c.TLSCA, "PEM `file` of the CAs a wss:// server's certificate must chain to (default: the system's)")
	fs.BoolVar(&c.TLSInsecure, "tls-insecure", c.TLSInsecure, "wss://: do not verify the server's certificate (a self-signed one under test)")
	fs.IntVar(&c.Procs, "procs", c.Procs, "client processes (default: enough for 19,000 connections each)")
	fs.StringVar(&c.Src, "src", c.Src, "first source `address` (127.0.0.2); later ones follow")
	fs.IntVar(&c.PerSrc, "per-src", c.PerSrc, "most connections per source address (15000)")
	fs.IntVar(&c.Dials, "dials", c.Dials, "concurrent dials per process (256)")
	dur(&c.Timeout, "timeout", "bound on one connect+handshake+login (10s)")
	fs.IntVar(&c.N, "n", c.N, "connections: users (private), members (room), offline users (mailbox), C (echo)")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "aggregate rate per second: connections (connect), messages (private, room, mailbox), round trips (echo; 0 closed loop)")
	dur(&c.Duration, "d", "hold (idle) or measured sending time (echo, private, room) (10s)")
	dur(&c.Warmup, "warmup", "sent but not measured, before -d (echo 2s, else 0)")
	fs.IntVar(&c.Size, "size", c.Size, "payload `bytes` (echo 32, chat 64)")
	fs.StringVar(&c.Receiver, "receiver", c.Receiver, "private: partner or random")
	fs.StringVar(&c.RoomName, "room", c.RoomName, "room: the room (lobby)")
	fs.IntVar(&c.Publishers, "publishers", c.Publishers, "room: publishers among the members (1)")
	fs.IntVar(&c.Observers, "observers", c.Observers, "room: connections outside the room that must get nothing (not with the lobby)")
	fs.IntVar(&c.Messages, "messages", c.Messages, "mailbox: messages stored for the offline users (10000)")
	fs.IntVar(&c.Senders, "senders", c.Senders, "mailbox: online senders (10)")
	fs.Var(boolPtr{&c.Login}, "login", "log in with a plain-text name after the handshake (default: when the URL ends in /ws)")
	dur(&c.Drain, "drain", "longest wait for late deliveries (10s)")
	dur(&c.Quiet, "quiet", "the drain ends after this long without a delivery (1s)")
	dur(&c.Interval, "interval", "server sampling interval and time-series step (1s)")
	fs.StringVar(&c.Out, "out", c.Out, "write the JSON report to `file`")
	fs.StringVar(&c.Plots, "plots", c.Plots, "write PNG plots into `dir`")
	fs.StringVar(&c.Tag, "tag", c.Tag, "user names are cb<tag>-<i> (default random)")
	bindSoak(fs, &c.SoakConfig)
	return config
}

// bindSoak defines the soak scenario's flags.
func bindSoak(fs *flag.FlagSet, s *scenario.SoakConfig) {
	dur := func(p *scenario.Duration, name, usage string) {
		fs.DurationVar((*time.Duration)(p), name, time.Duration(*p), usage)
	}
	f := func(p *float64, name, usage string) { fs.Float64Var(p, name, *p, usage) }
	f(&s.LobbyRate, "lobby-rate", "soak: lobby messages/s in all, each to every online user (0.2)")
	f(&s.RoomShare, "room-share", "soak: share of -rate sent to rooms, the rest private (0.3)")
	f(&s.OfflineShare, "offline-share", "soak: share of private messages to logged-out users (0.1)")
	f(&s.Churn, "churn", "soak: fraction of the users logging out per minute, back after -offline (0.02)")
	dur(&s.Offline, "offline", "soak: mean time logged out (15s)")
	f(&s.Drops, "drops", "soak: fraction of the users per minute whose connection is dropped, resumed at once (0.01)")
	f(&s.Moves, "moves", "soak: fraction of the users per minute moving to another room (0.05)")
	fs.IntVar(&s.RoomSize, "room-size", s.RoomSize, "soak: mean members per room (50)")
	fs.IntVar(&s.RoomsPerUser, "rooms-per-user", s.RoomsPerUser, "soak: rooms per user besides the lobby (2)")
	f(&s.ConnectRate, "connect-rate", "soak: logins/s while the users come up (1000)")
	dur(&s.Deadline, "deadline", "soak: how late a promised message may be before it counts as lost (10s)")
	fs.StringVar(&s.Admin, "admin", s.Admin, "soak: chatd's admin `URL` (http://127.0.0.1:9090) for goroutines from /metrics")
	f(&s.WarmupShare, "warmup-share", "soak: share of -d before the flatness verdict, when -warmup is not set (0.2)")
	f(&s.RSSRatio, "rss-ratio", "soak: RSS may grow this factor between the first and last post-warm-up quarter (1.05)")
	f(&s.RSSSlackMiB, "rss-slack", "soak: ... plus this many MiB (8)")
	f(&s.FDRatio, "fd-ratio", "soak: fds growth factor allowed (1.01)")
	f(&s.FDSlack, "fd-slack", "soak: ... plus this many fds (20)")
	f(&s.GoroutineRatio, "goroutine-ratio", "soak: goroutines growth factor allowed (1.05)")
	f(&s.GoroutineSlack, "goroutine-slack", "soak: ... plus this many (50)")
	f(&s.P99Ratio, "p99-ratio", "soak: per-interval p99 growth factor allowed (2)")
	f(&s.P99SlackMillis, "p99-slack", "soak: ... plus this many ms (10)")
}

// parseConfig parses a scenario's flags: an optional first argument naming
// the scenario, then flags, with -config read first and overridden by the
// other flags. The result went through WithDefaults and Validate.
func parseConfig(name string, args []string, stderr io.Writer) (scenario.Config, error) {
	var c scenario.Config
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.Scenario, args = args[0], args[1:]
	}
	named := c.Scenario

	// First pass: only to find -config (and reject bad flags early).
	probe := c
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	config := bind(fs, &probe)
	if err := fs.Parse(args); err != nil {
		fs.SetOutput(stderr)
		return c, usage(fs, name, err)
	}
	if *config != "" {
		var err error
		if c, err = scenario.LoadFile(*config, c); err != nil {
			fmt.Fprintln(stderr, err)
			return c, err
		}
		if named != "" {
			c.Scenario = named
		}
	}
	fs = flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	bind(fs, &c)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, usage(fs, name, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if c.Tag == "" {
		var b [3]byte
		_, _ = rand.Read(b[:])
		c.Tag = hex.EncodeToString(b[:])
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return c, err
	}
	return c, nil
}

func usage(fs *flag.FlagSet, name string, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(fs.Output(), "Usage: chatbench %s SCENARIO [flags]   (or -config FILE)\n\nFlags:\n", name)
		fs.PrintDefaults()
		return err
	}
	fmt.Fprintln(fs.Output(), err)
	return err
}
