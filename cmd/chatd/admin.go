package main

import (
	"context"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/admin"
	"github.com/chatd/chatd/server/bridge"
	"github.com/chatd/chatd/server/chat"
)

// adminStopTimeout bounds the admin listener's shutdown (a scrape or a
// profile in flight).
const adminStopTimeout = 2 * time.Second

// adminListener is the admin listener with what it reads, which serve
// fills in as the parts start: until then /metrics has the server's
// metrics only and /readyz says "starting". A nil *adminListener (admin
// off) does nothing.
type adminListener struct {
	srv *admin.Server
	src atomic.Pointer[metricSources]
	// notReady is the readiness check past the start: a cluster node's
	// link to NATS; nil answers ready.
	notReady atomic.Pointer[func() string]
}

// startAdmin serves admin.listen when it is set; it returns nil when the
// admin listener is off. It starts before everything else, so /readyz
// answers 503 "starting" while the rest (the cluster, the mailbox) comes
// up.
func startAdmin(full Config, srv *server.Server, log *zap.Logger) (*adminListener, error) {
	if !full.Admin.Enabled() {
		return nil, nil
	}
	// Codes the endpoints send are reported by number; any other (a
	// peer's own) is summed as "other".
	srv.KnownCloseCodes(chat.CloseLoginAttempts, chat.CloseLoginTimeout, chat.CloseLoginFlood,
		chat.CloseReplaced, chat.CloseDisconnected, chat.CloseRateLimit,
		bridge.CloseProgramExited, bridge.CloseLineTooLong, bridge.CloseTooManyProcesses, bridge.CloseStartFailed)
	a := &adminListener{}
	a.src.Store(&metricSources{srv: srv})
	reg := newRegistry(&a.src)
	checks := admin.Checks{
		Health: func() string {
			if src := a.src.Load(); src.chat != nil && src.chat.node != nil {
				return src.chat.node.health()
			}
			return ""
		},
		Ready: func() string {
			if f := a.notReady.Load(); f != nil {
				return (*f)()
			}
			return ""
		},
	}
	s, err := admin.Listen(full.Admin, reg, checks, log.Named("admin"))
	if err != nil {
		return nil, err
	}
	a.srv = s
	s.Start()
	log.Info("admin listening", zap.Stringer("addr", s.Addr()), zap.Bool("pprof", full.Admin.Pprof))
	return a, nil
}

// started gives the listener what it reads once everything is built, and
// marks the node ready: call it once the main listener serves.
func (a *adminListener) started(src metricSources) {
	if a == nil {
		return
	}
	a.src.Store(&src)
	if src.chat != nil && src.chat.node != nil {
		check := src.chat.node.health // "cluster degraded: ..." while cut off
		a.notReady.Store(&check)
	}
	a.srv.SetReady()
}

// draining makes /readyz answer 503 from now on: shutdown began.
func (a *adminListener) draining() {
	if a != nil {
		a.srv.SetDraining()
	}
}

// stop closes the admin listener, last of all.
func (a *adminListener) stop(log *zap.Logger) {
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), adminStopTimeout)
	defer cancel()
	if err := a.srv.Shutdown(ctx); err != nil {
		log.Warn("admin listener shutdown", zap.Error(err))
	}
}
