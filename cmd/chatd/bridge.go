package main

import (
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/throttle"
	"github.com/chatd/chatd/server/bridge"
)

// startBridge builds the bridge of bridge.programs (none: a bridge that
// serves nothing). A program with login: true checks logins with chat's
// authenticator, or, with chat off, one built from auth: for it, and is
// counted in logins, the throttle /ws shares. A path that chatd already
// serves is refused. It also returns the authenticator the bridge checks
// logins with (nil: none), for reloads.
func startBridge(full Config, chatSvc *chatService, logins *throttle.Throttle, log *zap.Logger) (*bridge.Bridge, auth.Authenticator, error) {
	var authn auth.Authenticator
	for _, p := range full.Bridge.Programs {
		switch {
		case p.Path == "/echo" && full.Server.Echo,
			p.Path == "/" && full.Web.Enabled,
			full.Chat.Enabled && (p.Path == "/ws" || strings.HasPrefix(p.Path, "/ws/")):
			return nil, nil, fmt.Errorf("bridge.programs: %s is served by chatd itself", p.Path)
		}
		if p.Login && authn == nil {
			if chatSvc != nil {
				authn = chatSvc.authn
			} else {
				a, err := newAuthenticator(full.Auth, log)
				if err != nil {
					return nil, nil, fmt.Errorf("bridge: auth backend %s: %w", full.Auth.Backend, err)
				}
				authn = a
			}
		}
	}
	b, err := bridge.New(full.Bridge, authn, log.Named("bridge"), bridge.WithThrottle(logins))
	if err != nil {
		return nil, nil, err
	}
	for _, r := range b.Routes() {
		log.Info("bridge program", zap.String("path", r.Path))
	}
	return b, authn, nil
}
