package main

import (
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/anonymous"
	"github.com/chatd/chatd/auth/httpauth"
	"github.com/chatd/chatd/auth/jwt"
	"github.com/chatd/chatd/auth/passwords"
	"github.com/chatd/chatd/auth/static"
	"github.com/chatd/chatd/server/chat"
)

// AuthConfig is the auth: section: the selection of the login backend and
// each backend's settings, which is chatd's to make (newAuthenticator), and,
// inline, the keys of the chat layer's auth pool (chat.AuthConfig).
type AuthConfig struct {
	// Backend is anonymous, static, passwords, jwt or http. Default anonymous.
	Backend string `yaml:"backend"`
	// sessions_per_user, workers and queue, owned by package chat.
	chat.AuthConfig `yaml:",inline"`

	// Settings of each backend; only the selected one is used and checked.
	Static    static.Config    `yaml:"static"`
	Passwords passwords.Config `yaml:"passwords"`
	JWT       jwt.Config       `yaml:"jwt"`
	HTTP      httpauth.Config  `yaml:"http"`
}

// Backends lists the auth backends.
var Backends = []string{"anonymous", "static", "passwords", "jwt", "http"}

func defaultAuth() AuthConfig {
	return AuthConfig{
		Backend:    "anonymous",
		AuthConfig: chat.DefaultAuthConfig(),
		Static:     static.Default(),
		Passwords:  passwords.Default(),
		JWT:        jwt.Default(),
		HTTP:       httpauth.Default(),
	}
}

// Validate reports every invalid field of the section, one per line, named
// by its YAML key path (auth.…): the backend's name, chat's keys, and the
// settings of the selected backend only.
func (a AuthConfig) Validate() error {
	var errs []error
	known := false
	for _, b := range Backends {
		known = known || a.Backend == b
	}
	if !known {
		errs = append(errs, fmt.Errorf("auth.backend %q: want one of %v", a.Backend, Backends))
	}
	errs = append(errs, a.AuthConfig.Validate())
	switch a.Backend {
	case "static":
		errs = append(errs, a.Static.Validate())
	case "passwords":
		errs = append(errs, a.Passwords.Validate())
	case "jwt":
		errs = append(errs, a.JWT.Validate())
	case "http":
		errs = append(errs, a.HTTP.Validate())
	}
	return errors.Join(errs...)
}

// newAuthenticator builds the backend auth.backend names.
func newAuthenticator(cfg AuthConfig, log *zap.Logger) (auth.Authenticator, error) {
	switch cfg.Backend {
	case "anonymous":
		return anonymous.New(), nil
	case "static":
		return static.New(cfg.Static)
	case "passwords":
		return passwords.New(cfg.Passwords, log.Named("passwords"))
	case "jwt":
		return jwt.New(cfg.JWT)
	case "http":
		return httpauth.New(cfg.HTTP)
	}
	return nil, fmt.Errorf("auth.backend %q: unknown", cfg.Backend)
}

// chatBackend is authn, built from cfg, as the chat layer takes it.
func chatBackend(cfg AuthConfig, authn auth.Authenticator) chat.Backend {
	return chat.Backend{Authenticator: authn, Anonymous: cfg.Backend == "anonymous"}
}
