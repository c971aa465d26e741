package bridge

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// Modes of a program.
const (
	// ModePerConnection runs one process per WebSocket connection.
	ModePerConnection = "per_connection"
	// ModeShared runs one process for the path, shared by its connections.
	ModeShared = "shared"
)

// Config is the bridge's configuration, the bridge: section of chatd.yaml:
// the stdio programs served over WebSocket and the limits, each documented
// with its default (Default).
type Config struct {
	// Programs are the bridged programs, one per path. Default none.
	Programs []Program `yaml:"programs"`
	// MaxProcesses caps the bridge's running processes, all paths
	// together; a connection past it is closed with 4102. Default 256.
	MaxProcesses int `yaml:"max_processes"`
	// MaxProcessesPerPath caps the running processes of one path (a
	// shared program counts one). Default 64.
	MaxProcessesPerPath int `yaml:"max_processes_per_path"`
	// MaxLineBytes is the longest line a program may write to stdout (the
	// newline not counted); a longer one closes the connection with 4101.
	// In binary mode it is the largest chunk read at once. Default 65536.
	MaxLineBytes int `yaml:"max_line_bytes"`
	// StdinQueue is the number of messages queued for a process's stdin;
	// when it is full the client's socket is no longer read until the
	// program has taken one. Default 64.
	StdinQueue int `yaml:"stdin_queue"`
	// StdinGrace is how long a process may run after its client went and
	// its stdin was closed before it gets SIGTERM. Default "200ms".
	StdinGrace time.Duration `yaml:"stdin_grace"`
	// KillGrace is how long a process may run after SIGTERM before it
	// gets SIGKILL. Default "2s".
	KillGrace time.Duration `yaml:"kill_grace"`
	// RestartBackoff is the first wait before a shared program that exited
	// is started again; it doubles with each exit up to MaxRestartBackoff
	// and starts over after a run longer than MaxRestartBackoff.
	// Default "1s".
	RestartBackoff time.Duration `yaml:"restart_backoff"`
	// MaxRestartBackoff caps the restart wait. Default "30s".
	MaxRestartBackoff time.Duration `yaml:"max_restart_backoff"`
	// LoginTimeout closes a connection to a program with login: true that
	// has not logged in this long after it opened, with 4004. Default "30s".
	LoginTimeout time.Duration `yaml:"login_timeout"`
	// StderrLinesPerSecond is how many stderr lines per path go to chatd's
	// log per second (bursts of as many); the rest are counted and the
	// count logged. Default 10.
	StderrLinesPerSecond int `yaml:"stderr_lines_per_second"`
}

// Program is one bridged program (bridge.programs[i]).
type Program struct {
	// Path is the WebSocket path it is served at, such as /stdio.
	Path string `yaml:"path"`
	// Command is the program and its arguments (argv, no shell). A name
	// without a slash is looked up in chatd's PATH at start.
	Command []string `yaml:"command"`
	// Mode is per_connection (one process per connection) or shared (one
	// process for the path). Default per_connection.
	Mode string `yaml:"mode"`
	// Login makes clients log in first (the auth backend of /ws); the
	// name goes to the program as CHATD_USER, or as the sender's
	// identifier in shared mode. Default false.
	Login bool `yaml:"login"`
	// Binary passes raw bytes: each message goes to stdin as is and each
	// read from stdout is sent as one binary message. per_connection only.
	// Default false (text lines).
	Binary bool `yaml:"binary"`
	// PassEnv names variables of chatd's environment passed on to the
	// program; nothing else of it is. Default none.
	PassEnv []string `yaml:"pass_env,omitempty"`
}

// Default returns the defaults: no programs, and the documented limits.
func Default() Config {
	return Config{
		Programs:             []Program{},
		MaxProcesses:         256,
		MaxProcessesPerPath:  64,
		MaxLineBytes:         64 << 10,
		StdinQueue:           64,
		StdinGrace:           200 * time.Millisecond,
		KillGrace:            2 * time.Second,
		RestartBackoff:       time.Second,
		MaxRestartBackoff:    30 * time.Second,
		LoginTimeout:         30 * time.Second,
		StderrLinesPerSecond: 10,
	}
}

// Shared reports whether p runs in shared mode.
func (p Program) Shared() bool { return p.Mode == ModeShared }

// Validate reports every invalid field, one per line, named as in the
// YAML file (bridge.…).
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.MaxProcesses < 1 || c.MaxProcesses > 100_000 {
		add("bridge.max_processes %d: want 1 to 100000", c.MaxProcesses)
	}
	if c.MaxProcessesPerPath < 1 || c.MaxProcessesPerPath > 100_000 {
		add("bridge.max_processes_per_path %d: want 1 to 100000", c.MaxProcessesPerPath)
	}
	if c.MaxLineBytes < 16 || c.MaxLineBytes > 16<<20 {
		add("bridge.max_line_bytes %d: want 16 to 16777216", c.MaxLineBytes)
	}
	if c.StdinQueue < 1 || c.StdinQueue > 1<<16 {
		add("bridge.stdin_queue %d: want 1 to 65536", c.StdinQueue)
	}
	if c.StdinGrace < 0 {
		add("bridge.stdin_grace %v: want 0 or a positive duration such as \"200ms\"", c.StdinGrace)
	}
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			add("%s %v: want a positive duration such as \"2s\"", name, d)
		}
	}
	positive("bridge.kill_grace", c.KillGrace)
	positive("bridge.restart_backoff", c.RestartBackoff)
	positive("bridge.max_restart_backoff", c.MaxRestartBackoff)
	positive("bridge.login_timeout", c.LoginTimeout)
	if c.MaxRestartBackoff < c.RestartBackoff {
		add("bridge.max_restart_backoff %v: want at least restart_backoff (%v)", c.MaxRestartBackoff, c.RestartBackoff)
	}
	if c.StderrLinesPerSecond < 0 || c.StderrLinesPerSecond > 1_000_000 {
		add("bridge.stderr_lines_per_second %d: want 0 (none logged) to 1000000", c.StderrLinesPerSecond)
	}
	seen := map[string]bool{}
	for i, p := range c.Programs {
		name := fmt.Sprintf("bridge.programs[%d]", i)
		switch {
		case !strings.HasPrefix(p.Path, "/") || path.Clean(p.Path) != p.Path || strings.ContainsAny(p.Path, "?#"):
			add("%s.path %q: want a clean absolute path such as /stdio", name, p.Path)
		case p.Path == "/healthz":
			add("%s.path %q: reserved", name, p.Path)
		case seen[p.Path]:
			add("%s.path %q: served twice", name, p.Path)
		}
		seen[p.Path] = true
		if len(p.Command) == 0 || p.Command[0] == "" {
			add("%s.command: want the program and its arguments, such as [\"/usr/bin/python3\", \"-u\", \"/srv/ticker.py\"]", name)
		}
		switch p.Mode {
		case "", ModePerConnection, ModeShared:
		default:
			add("%s.mode %q: want per_connection or shared", name, p.Mode)
		}
		if p.Binary && p.Shared() {
			add("%s.binary: binary mode is per_connection only", name)
		}
		for j, e := range p.PassEnv {
			if e == "" || strings.ContainsAny(e, "=\x00") {
				add("%s.pass_env[%d] %q: want a variable name", name, j, e)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}
