package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/admin"
	"github.com/chatd/chatd/server/api"
	"github.com/chatd/chatd/server/bridge"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/cluster"
	"github.com/chatd/chatd/server/web"
	"github.com/chatd/chatd/server/webhook"
)

// Config is the whole configuration file. It only composes: each section
// is the Config of the package that owns it, with that package's defaults
// and validation; what lives here is the auth selection (AuthConfig), the
// log section, and the rules that span sections.
type Config struct {
	Server   server.Config  `yaml:"server"`
	Chat     chat.Config    `yaml:"chat"`
	Auth     AuthConfig     `yaml:"auth"`
	Web      web.Config     `yaml:"web"`      // the chat page at /
	API      api.Config     `yaml:"api"`      // the HTTP API for backends, on its own address
	Webhooks webhook.Config `yaml:"webhooks"` // event webhooks; off unless webhooks.url is set
	Bridge   bridge.Config  `yaml:"bridge"`   // stdio programs served over WebSocket
	Log      LogConfig      `yaml:"log"`
	Cluster  cluster.Config `yaml:"cluster"` // cluster mode over NATS; off unless cluster.enabled
	Admin    admin.Config   `yaml:"admin"`   // metrics, health, readiness, pprof; off unless admin.listen
}

// DefaultConfig returns the built-in defaults. They equal configs/chatd.yaml.
func DefaultConfig() Config {
	return Config{
		Server:   server.DefaultConfig(),
		Chat:     chat.DefaultConfig(),
		Auth:     defaultAuth(),
		Web:      web.Default(),
		API:      api.Default(),
		Webhooks: webhook.Default(),
		Bridge:   bridge.Default(),
		Log:      LogConfig{Level: "info", Format: "console"},
		Cluster:  cluster.DefaultConfig(),
		Admin:    admin.Default(),
	}
}

// LoadConfig reads and validates the file at path.
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	cfg, err := DecodeConfig(f)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// DecodeConfig reads YAML strictly on top of the defaults and validates the
// result. Keys missing from the document keep their default values.
func DecodeConfig(r io.Reader) (Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Config{}, fmt.Errorf("read: %w", err)
	}
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	switch err := dec.Decode(&cfg); {
	case errors.Is(err, io.EOF):
		// Empty, or only comments: keep the defaults.
	case err != nil:
		return Config{}, fmt.Errorf("decode: %w", err)
	default:
		// A second document would be ignored, unknown keys and all.
		var next yaml.Node
		switch err := dec.Decode(&next); {
		case errors.Is(err, io.EOF):
		case err != nil:
			return Config{}, fmt.Errorf("decode: %w", err)
		default:
			return Config{}, fmt.Errorf("decode: line %d: second YAML document; want exactly one", next.Line)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate reports every invalid field, one per line, each named by its YAML
// key path: every section's own problems, in file order, then the rules
// that span sections.
func (c Config) Validate() error {
	errs := []error{
		c.Server.Validate(),
		c.Chat.Validate(),
		c.Auth.Validate(),
		c.Web.Validate(),
		c.API.Validate(),
	}
	if c.API.Enabled() && c.API.MaxBodyBytes > int64(c.Server.Limits.WriteBudgetBytes)/2 {
		// A message near the write budget would close its receivers as
		// slow consumers (4008): every member of a room at once.
		errs = append(errs, fmt.Errorf("api.max_body_bytes %d: want at most half of server.limits.write_budget_bytes (%d)",
			c.API.MaxBodyBytes, c.Server.Limits.WriteBudgetBytes/2))
	}
	errs = append(errs, c.Webhooks.Validate(), c.Bridge.Validate(), c.Log.Validate(), c.Cluster.Validate(), c.Admin.Validate())
	if c.Admin.Enabled() && admin.Overlaps(c.Admin.Listen, c.Server.Listen) {
		// The admin endpoints (metrics, pprof) must never be served to
		// the clients of the public listener.
		errs = append(errs, fmt.Errorf("admin.listen %q: same address as server.listen %q; give the admin listener its own port, such as 127.0.0.1:9090",
			c.Admin.Listen, c.Server.Listen))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid config:\n%w", err)
	}
	return nil
}
