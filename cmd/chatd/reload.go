package main

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/throttle"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/chat"
)

// reloader applies the -config file again on SIGHUP: what a running chatd
// can take on is applied, what it cannot is named in a warning and left as
// it was (reload_keys.go classifies every key), and the files the config
// points to are reread.
//
// A reload is all or nothing for the config: a file that does not load or
// validate, or that would be invalid with its restart-only keys kept at
// their running values, changes nothing. The files (reloadFiles) are each
// their own: one that fails keeps its previous content, the others are
// still reread.
//
// Concurrency: serve calls reload on its own goroutine, one at a time; the
// reloader is not safe for concurrent use. What it changes is read
// concurrently elsewhere and is swapped atomically by its owner
// (zap.AtomicLevel, server.Server.Reconfigure, throttle.Throttle.SetConfig,
// chat.Service.Reconfigure, the auth backends' Reload).
type reloader struct {
	path  string // the -config file; "" when chatd runs on the built-in defaults
	log   *zap.Logger
	level zap.AtomicLevel
	// running is the config in force: the last file applied, with the
	// restart-only keys at the values chatd started with.
	running Config
	// configs are the parts that take on the live keys of a new config,
	// in order. Each validates its own section, which the whole config
	// already passed.
	configs []configApplier
	// files are reread on every SIGHUP, config changed or not.
	files []fileReloader
	stats *reloadStats
}

// configApplier hands the live keys of a config to one part of chatd.
type configApplier struct {
	name  string
	apply func(Config) error
}

// fileReloader rereads a file the config points to: the auth backend's
// file, the TLS certificate, key and client CA (server.tls).
type fileReloader struct {
	name   string // the config key of the file, for logs
	reload func() error
}

// reloadStats count reloads for /metrics. Safe for concurrent use.
type reloadStats struct {
	ok, failed  atomic.Uint64
	lastSuccess atomic.Int64 // Unix nanoseconds; the start counts as one
}

func newReloadStats(now time.Time) *reloadStats {
	s := &reloadStats{}
	s.lastSuccess.Store(now.UnixNano())
	return s
}

func (s *reloadStats) record(err error, now time.Time) {
	if err != nil {
		s.failed.Add(1)
		return
	}
	s.ok.Add(1)
	s.lastSuccess.Store(now.UnixNano())
}

// reload applies the config file again and rereads the files, logging
// what it did; a refused config file stops it before the files, so that
// nothing changes. Its error, also logged, is for the metrics and tests.
func (r *reloader) reload() error {
	err := r.reloadConfig()
	if err == nil {
		err = r.reloadFiles()
	}
	r.stats.record(err, time.Now())
	return err
}

// reloadConfig applies the live keys of the file that changed.
func (r *reloader) reloadConfig() error {
	if r.path == "" {
		r.log.Info("reload: no -config file, nothing to reload (built-in defaults); rereading the auth files")
		return nil
	}
	next, err := LoadConfig(r.path)
	if err != nil {
		r.log.Error("reload: config not applied; the running config is kept", zap.Error(err))
		return err
	}
	changes := diffConfig(r.running, next)
	applied := r.running
	var live, restart []keyChange
	for _, c := range changes {
		if c.class == needsRestart {
			restart = append(restart, c)
			continue
		}
		live = append(live, c)
		c.set(&applied)
	}
	if err := applied.Validate(); err != nil {
		err = fmt.Errorf("with the keys that need a restart kept at their running values: %w", err)
		r.log.Error("reload: config not applied; the running config is kept", zap.Error(err),
			zap.Strings("restart", keyPaths(restart)))
		return err
	}
	if err := r.apply(applied); err != nil {
		r.log.Error("reload: config applied in part", zap.Error(err))
		return err
	}
	r.running = applied
	if len(restart) > 0 {
		r.log.Warn("needs a restart: "+strings.Join(keyPaths(restart), ", "),
			zap.Strings("keys", keyPaths(restart)))
	}
	summary := make([]string, len(live))
	for i, c := range live {
		summary[i] = c.String()
	}
	r.log.Info("config reloaded", zap.String("file", r.path), zap.Strings("applied", summary),
		zap.Int("restart_needed", len(restart)))
	return nil
}

// apply hands cfg, valid as a whole, to the logger and every part.
func (r *reloader) apply(cfg Config) error {
	level, err := zapcore.ParseLevel(cfg.Log.Level)
	if err != nil {
		return fmt.Errorf("log.level: %w", err)
	}
	r.level.SetLevel(level)
	for _, a := range r.configs {
		if err := a.apply(cfg); err != nil {
			// Validated already: a part refusing it is a bug, and the
			// parts before it have taken the config on.
			return fmt.Errorf("%s: %w", a.name, err)
		}
	}
	return nil
}

// reloadFiles rereads every file, each on its own.
func (r *reloader) reloadFiles() error {
	var errs []error
	for _, f := range r.files {
		if err := f.reload(); err != nil {
			r.log.Error("reload: file not reread; its previous content is kept", zap.String("key", f.name), zap.Error(err))
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
			continue
		}
		r.log.Info("reload: file reread", zap.String("key", f.name))
	}
	return errors.Join(errs...)
}

func keyPaths(changes []keyChange) []string {
	paths := make([]string, len(changes))
	for i, c := range changes {
		paths[i] = c.key.path
	}
	return paths
}

// newReloader prepares the reloads of a chatd started with cfg: the server,
// the login throttle and the chat service (nil when chat is off) take the
// live keys, and the auth backend's files are reread. The bridge checks
// logins with chat's backend, or with its own when chat is off
// (startBridge).
func newReloader(cfg Config, from reloadFrom, log *zap.Logger, srv *server.Server, logins *throttle.Throttle,
	chatSvc *chatService, bridgeAuth auth.Authenticator) *reloader {
	r := &reloader{
		path:    from.path,
		log:     log,
		level:   from.level,
		running: cfg,
		stats:   newReloadStats(time.Now()),
	}
	r.configs = append(r.configs,
		configApplier{"server", func(c Config) error { return srv.Reconfigure(c.Server) }},
		// One throttle for /ws and the bridge (serve).
		configApplier{"chat.login throttle", func(c Config) error {
			logins.SetConfig(chat.ThrottleConfig(c.Chat.Login))
			return nil
		}})
	authn := bridgeAuth
	if chatSvc != nil {
		r.configs = append(r.configs, configApplier{"chat", func(c Config) error { return chatSvc.Reconfigure(c.Chat) }})
		authn = chatSvc.authn
	}
	if f, ok := authn.(fileReloadable); ok && authFileKey(cfg.Auth) != "" {
		r.files = append(r.files, fileReloader{authFileKey(cfg.Auth), f.Reload})
	}
	// The certificate, key and client CA files: reread on every SIGHUP
	// (the server also rereads them when they change).
	if cfg.Server.TLS.Enabled() {
		r.files = append(r.files, fileReloader{"server.tls", srv.ReloadTLS})
	}
	return r
}

// fileReloadable is an auth backend that reads a file at start and can
// reread it (auth/passwords, auth/jwt with a key file).
type fileReloadable interface {
	Reload() error
}

// authFileKey names the file the selected backend reads, "" for none.
func authFileKey(a AuthConfig) string {
	switch {
	case a.Backend == "passwords":
		return "auth.passwords.file"
	case a.Backend == "jwt" && a.JWT.PublicKeyFile != "":
		return "auth.jwt.public_key_file"
	case a.Backend == "jwt" && a.JWT.SecretFile != "":
		return "auth.jwt.secret_file"
	}
	return ""
}
