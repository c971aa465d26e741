package main

import (
	"fmt"
	"reflect"
	"strings"
)

// reloadClass says when a change to one config key takes effect.
type reloadClass uint8

const (
	// needsRestart: a reload logs the change and keeps the running value.
	// The zero value, so a key nobody classified is never applied live.
	needsRestart reloadClass = iota
	// applyLive: a reload applies it to the running process, open
	// connections and sessions included (each key's comment says how).
	applyLive
	// applyToNew: a reload applies it to what starts after (connections,
	// sessions); what is open keeps the value it started with.
	applyToNew
)

func (c reloadClass) String() string {
	switch c {
	case applyLive:
		return "live"
	case applyToNew:
		return "new connections only"
	}
	return "restart"
}

// configKey is one leaf of the config file: its YAML path and where it is
// in Config.
type configKey struct {
	path  string // such as "server.limits.max_message_bytes"
	index []int  // for reflect.Value.FieldByIndex on a Config
}

// configKeys lists every leaf key of Config, in file order: every field
// with a yaml tag that is not itself a section. A field tagged ",inline"
// adds its fields to its parent's section. A slice or map is one key.
func configKeys() []configKey {
	return appendKeys(nil, reflect.TypeFor[Config](), "", nil)
}

func appendKeys(keys []configKey, t reflect.Type, prefix string, index []int) []configKey {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		at := append(index[:len(index):len(index)], i)
		if opts == "inline" {
			keys = appendKeys(keys, f.Type, prefix, at)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		path := prefix + name
		if f.Type.Kind() == reflect.Struct {
			keys = appendKeys(keys, f.Type, path+".", at)
			continue
		}
		keys = append(keys, configKey{path: path, index: at})
	}
	return keys
}

// reloadClasses classifies every key of the config file; docs/OPERATIONS.md
// ("Reloading the configuration") has the same table for operators, with
// the reasons. A key missing here needs a restart (the zero class), and
// TestEveryConfigKeyIsClassified fails until it is added: whoever adds a
// key decides whether a running chatd can take it on.
var reloadClasses = map[string]reloadClass{
	"server.listen":                                 needsRestart, // the socket is bound at start
	"server.allowed_origins":                        applyLive,    // every upgrade request read after the reload
	"server.echo":                                   needsRestart, // routes are fixed once serving
	"server.event_loops":                            needsRestart,
	"server.connections.max_total":                  applyLive, // checked at each admission; open connections count, none is closed
	"server.connections.max_per_address":            applyLive,
	"server.connections.max_handshakes_per_address": applyLive,
	"server.connections.rate_per_address":           applyLive,
	"server.connections.burst_per_address":          applyLive,
	"server.connections.max_lingering":              applyLive, // past a lowered cap each new lingering socket evicts the oldest
	"server.handshake.timeout":                      applyLive, // handshakes in progress too, at the next sweep
	"server.handshake.max_concurrent":               applyLive,
	"server.handshake.max_header_bytes":             applyLive, // request heads still being read too
	"server.limits.max_message_bytes":               applyLive, // every message begun after the reload
	"server.limits.partial_frame_timeout":           applyLive,
	"server.limits.write_budget_bytes":              applyLive,    // at each connection's next write
	"server.limits.queue_size":                      needsRestart, // a connection's queue is never resized
	"server.limits.closing_read_bytes":              applyLive,
	"server.keepalive.ping_interval":                applyLive,
	"server.keepalive.pong_timeout":                 applyLive,
	"server.compression.enabled":                    needsRestart, // the loops' compressors are made at start
	"server.compression.level":                      needsRestart,
	"server.compression.min_size":                   applyLive,    // every message sent after the reload
	"server.tls.cert_file":                          needsRestart, // the files' contents are reread on SIGHUP and when they change
	"server.tls.key_file":                           needsRestart,
	"server.tls.min_version":                        needsRestart,
	"server.tls.client_auth":                        needsRestart,
	"server.tls.client_ca_file":                     needsRestart,
	"server.tls.reload_interval":                    needsRestart,
	"server.close_timeout":                          applyLive,
	"server.shutdown_timeout":                       applyLive, // read when the shutdown begins

	"chat.enabled":                      needsRestart,
	"chat.login.max_attempts":           applyLive,
	"chat.login.timeout":                needsRestart, // the login timer and the backend's deadline are set at start
	"chat.login.failure_delay":          applyLive,
	"chat.login.max_failure_delay":      applyLive,
	"chat.login.max_messages":           applyLive,
	"chat.login.max_bytes":              applyLive,
	"chat.login.address_rate":           applyLive, // the login throttle's buckets keep their tokens, capped at the new size
	"chat.login.address_burst":          applyLive,
	"chat.login.account_failures":       applyLive,
	"chat.login.account_window":         applyLive,
	"chat.login.account_failures_total": applyLive,
	"chat.rooms.auto_join":              needsRestart,
	"chat.rooms.max_per_session":        applyLive, // at the next join; nobody leaves a room for it
	"chat.rooms.name_pattern":           needsRestart,
	"chat.rooms.presence":               needsRestart,
	"chat.rooms.presence_auto_join":     needsRestart,
	"chat.rooms.presence_interval":      needsRestart,
	"chat.rooms.presence_max_pending":   needsRestart,
	"chat.rooms.max_rooms":              needsRestart,
	"chat.rooms.list_limit":             applyLive,
	"chat.rooms.who_limit":              applyLive,
	"chat.rate.messages_per_second":     applyToNew, // a session's limiter is made at its first message, never resized
	"chat.rate.burst":                   applyToNew,
	"chat.rate.max_rejected":            applyLive,
	"chat.rate.window":                  applyLive,
	"chat.mailbox.dir":                  needsRestart,
	"chat.mailbox.max_messages":         needsRestart,
	"chat.mailbox.max_bytes":            needsRestart,
	"chat.mailbox.max_bytes_per_sender": needsRestart,
	"chat.mailbox.max_total_bytes":      needsRestart,
	"chat.mailbox.max_age":              needsRestart,
	"chat.mailbox.seen_max_age":         needsRestart,
	"chat.mailbox.anonymous":            needsRestart,
	"chat.mailbox.page_messages":        needsRestart,
	"chat.mailbox.page_bytes":           needsRestart,
	"chat.mailbox.live_buffer_bytes":    needsRestart,
	"chat.mailbox.queue_bytes":          needsRestart,
	"chat.history.messages":             needsRestart,
	"chat.history.max_age":              needsRestart,
	"chat.history.max_bytes":            needsRestart,
	"chat.history.limit":                needsRestart,
	"chat.history.max_total_bytes":      needsRestart,
	"chat.history.durable":              needsRestart,
	"chat.history.flush_interval":       needsRestart,
	"chat.resume.ttl":                   needsRestart,
	"chat.resume.max_closed":            needsRestart,

	// The backend is built at start; the files it reads are reread on
	// every SIGHUP whether or not the config changed (reloadFiles).
	"auth.backend":             needsRestart,
	"auth.sessions_per_user":   needsRestart,
	"auth.workers":             needsRestart,
	"auth.queue":               needsRestart,
	"auth.static.users":        needsRestart,
	"auth.passwords.file":      needsRestart, // its content is reread on SIGHUP; another path needs a restart
	"auth.jwt.algorithm":       needsRestart,
	"auth.jwt.secret":          needsRestart,
	"auth.jwt.secret_file":     needsRestart, // its content is reread on SIGHUP; another path needs a restart
	"auth.jwt.public_key_file": needsRestart, // likewise
	"auth.jwt.issuer":          needsRestart,
	"auth.jwt.audience":        needsRestart,
	"auth.jwt.leeway":          needsRestart,
	"auth.jwt.max_lifetime":    needsRestart,
	"auth.http.url":            needsRestart,
	"auth.http.timeout":        needsRestart,

	"web.enabled": needsRestart,

	"api.listen":           needsRestart,
	"api.key":              needsRestart,
	"api.key_file":         needsRestart,
	"api.sender":           needsRestart,
	"api.max_body_bytes":   needsRestart,
	"api.page_limit":       needsRestart,
	"api.max_in_flight":    needsRestart,
	"api.max_connections":  needsRestart,
	"api.send_timeout":     needsRestart,
	"api.shutdown_timeout": needsRestart,

	"webhooks.url":          needsRestart,
	"webhooks.secret":       needsRestart,
	"webhooks.secret_file":  needsRestart,
	"webhooks.timeout":      needsRestart,
	"webhooks.batch_events": needsRestart,
	"webhooks.batch_wait":   needsRestart,
	"webhooks.queue_events": needsRestart,
	"webhooks.queue_bytes":  needsRestart,
	"webhooks.retry_min":    needsRestart,
	"webhooks.retry_max":    needsRestart,
	"webhooks.durable":      needsRestart,

	"bridge.programs":                needsRestart,
	"bridge.max_processes":           needsRestart,
	"bridge.max_processes_per_path":  needsRestart,
	"bridge.max_line_bytes":          needsRestart,
	"bridge.stdin_queue":             needsRestart,
	"bridge.stdin_grace":             needsRestart,
	"bridge.kill_grace":              needsRestart,
	"bridge.restart_backoff":         needsRestart,
	"bridge.max_restart_backoff":     needsRestart,
	"bridge.login_timeout":           needsRestart,
	"bridge.stderr_lines_per_second": needsRestart,

	"log.level":  applyLive, // the logger's AtomicLevel
	"log.format": needsRestart,

	"cluster.enabled":                      needsRestart,
	"cluster.node":                         needsRestart,
	"cluster.presence_ttl":                 needsRestart,
	"cluster.nats.urls":                    needsRestart,
	"cluster.nats.embedded.enabled":        needsRestart,
	"cluster.nats.embedded.listen":         needsRestart,
	"cluster.nats.embedded.cluster_listen": needsRestart,
	"cluster.nats.embedded.routes":         needsRestart,
	"cluster.nats.embedded.store_dir":      needsRestart,
	"cluster.nats.replicas":                needsRestart,

	"admin.listen": needsRestart,
	"admin.pprof":  needsRestart,
}

// keyChange is one key whose value differs between two configs.
type keyChange struct {
	key      configKey
	class    reloadClass
	old, new reflect.Value
}

// diffConfig lists the keys whose values differ from old to next, in file
// order, each with its class.
func diffConfig(old, next Config) []keyChange {
	ov, nv := reflect.ValueOf(old), reflect.ValueOf(next)
	var changes []keyChange
	for _, k := range configKeys() {
		o, n := ov.FieldByIndex(k.index), nv.FieldByIndex(k.index)
		if reflect.DeepEqual(o.Interface(), n.Interface()) {
			continue
		}
		changes = append(changes, keyChange{key: k, class: reloadClasses[k.path], old: o, new: n})
	}
	return changes
}

// set copies the change's new value into cfg.
func (c keyChange) set(cfg *Config) {
	reflect.ValueOf(cfg).Elem().FieldByIndex(c.key.index).Set(c.new)
}

// String is "path: old → new" for a scalar, else just the path, so that
// neither a list nor a secret is written to the log.
func (c keyChange) String() string {
	if p := c.key.path; strings.Contains(p, "secret") || strings.HasSuffix(p, ".key") {
		return p
	}
	switch c.old.Kind() {
	case reflect.Slice, reflect.Map, reflect.Struct, reflect.Pointer, reflect.Interface:
		return c.key.path
	}
	return fmt.Sprintf("%s: %v → %v", c.key.path, c.old.Interface(), c.new.Interface())
}
