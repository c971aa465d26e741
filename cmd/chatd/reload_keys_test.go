package main

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestEveryConfigKeyIsClassified fails when a key of the config file is
// not in reloadClasses (add it: can a running chatd take it on?), or when
// reloadClasses names a key the file does not have.
func TestEveryConfigKeyIsClassified(t *testing.T) {
	keys := map[string]bool{}
	for _, k := range configKeys() {
		keys[k.path] = true
		if _, ok := reloadClasses[k.path]; !ok {
			t.Errorf("config key %s is not in reloadClasses (reload_keys.go): classify it as applyLive, applyToNew or needsRestart, and add it to docs/OPERATIONS.md", k.path)
		}
	}
	for path := range reloadClasses {
		if !keys[path] {
			t.Errorf("reloadClasses names %s, which is not a config key", path)
		}
	}
	if len(keys) < 100 {
		t.Fatalf("only %d config keys found: configKeys does not walk Config", len(keys))
	}
}

// TestConfigKeysWalkSections checks configKeys on the shapes Config uses:
// nested sections, an inline section (auth's chat keys, the mailbox's
// store keys), lists.
func TestConfigKeysWalkSections(t *testing.T) {
	var paths []string
	for _, k := range configKeys() {
		paths = append(paths, k.path)
	}
	for _, want := range []string{
		"server.listen", "server.limits.max_message_bytes", "auth.sessions_per_user",
		"chat.mailbox.dir", "chat.mailbox.page_bytes", "chat.rooms.auto_join", "cluster.nats.embedded.listen",
	} {
		if !slices.Contains(paths, want) {
			t.Errorf("configKeys lacks %s", want)
		}
	}
	for _, p := range paths {
		if strings.Contains(p, "config.") || strings.HasPrefix(p, ".") {
			t.Errorf("key %s: an inline section got a name", p)
		}
	}
}

// TestUnknownKeyNeedsRestart: a key missing from reloadClasses is never
// applied live.
func TestUnknownKeyNeedsRestart(t *testing.T) {
	var zero reloadClass
	if zero != needsRestart {
		t.Fatal("the zero reloadClass must be needsRestart")
	}
}

// TestDiffConfig finds each changed key once, with its class, and renders
// scalars with their values and lists and secrets without.
func TestDiffConfig(t *testing.T) {
	old := DefaultConfig()
	if d := diffConfig(old, old); len(d) != 0 {
		t.Fatalf("identical configs differ in %v", d)
	}
	next := DefaultConfig()
	next.Log.Level = "debug"
	next.Server.Listen = "127.0.0.1:9999"
	next.Chat.Rooms.AutoJoin = []string{"lobby", "news"}
	next.API.Key = "0123456789abcdef0123456789abcdef"
	next.Server.Keepalive.PingInterval = time.Minute
	var got []string
	for _, c := range diffConfig(old, next) {
		got = append(got, c.class.String()+" "+c.String())
	}
	want := []string{
		"restart server.listen: 127.0.0.1:8080 → 127.0.0.1:9999",
		"live server.keepalive.ping_interval: 30s → 1m0s",
		"restart chat.rooms.auto_join",
		"restart api.key",
		"live log.level: info → debug",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestReloadWithoutConfigFile: with the built-in defaults there is no file
// to reread; the reload says so and still rereads the auth files.
func TestReloadWithoutConfigFile(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	reread := 0
	r := &reloader{
		log:     zap.New(core),
		level:   zap.NewAtomicLevel(),
		running: DefaultConfig(),
		files:   []fileReloader{{"auth.passwords.file", func() error { reread++; return nil }}},
		stats:   newReloadStats(time.Unix(0, 0)),
	}
	if err := r.reload(); err != nil {
		t.Fatal(err)
	}
	if n := logs.FilterMessageSnippet("nothing to reload (built-in defaults)").Len(); n != 1 {
		t.Errorf("%d lines saying there is nothing to reload, want 1", n)
	}
	if reread != 1 {
		t.Errorf("auth file reread %d times, want 1", reread)
	}
	if r.stats.ok.Load() != 1 || r.stats.lastSuccess.Load() == 0 {
		t.Errorf("stats: ok %d, last success %d", r.stats.ok.Load(), r.stats.lastSuccess.Load())
	}
}

// TestOperationsDocListsLiveKeys: docs/OPERATIONS.md's reload table has a
// row for every key that is not restart-only, with its class, and no row
// for a key with another class.
func TestOperationsDocListsLiveKeys(t *testing.T) {
	data, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // key → class, from "| `key` | class | when |"
	for line := range strings.Lines(string(data)) {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		key := strings.TrimSpace(cells[1])
		if strings.HasPrefix(key, "`") && strings.Count(key, "`") == 2 && !strings.Contains(key, "*") {
			rows[strings.Trim(key, "`")] = strings.TrimSpace(cells[2])
		}
	}
	for path, class := range reloadClasses {
		got, ok := rows[path]
		switch {
		case class == needsRestart && ok && got != "restart":
			t.Errorf("OPERATIONS.md: %s is %q, but it needs a restart", path, got)
		case class != needsRestart && got != class.String():
			t.Errorf("OPERATIONS.md: %s is %q (row present %v), want %q", path, got, ok, class)
		}
	}
}
