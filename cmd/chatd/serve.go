package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/auth/throttle"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/api"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/web"
)

// shutdownSlack is added to server.shutdown_timeout so the server's own
// per-connection close timeouts can fire before the overall deadline does.
const shutdownSlack = time.Second

// poolsCloseTimeout bounds the wait for the chat service's pools (logins
// being checked, offline mail being stored) after the connections have
// closed, separately from shutdown_timeout.
const poolsCloseTimeout = 5 * time.Second

// clusterPoolsCloseTimeout is poolsCloseTimeout for a cluster node: each
// session closed at shutdown leaves a last-seen write that takes a round
// trip to JetStream (8 at a time): 5 s lost some of 24,000 in a test.
const clusterPoolsCloseTimeout = 30 * time.Second

// failedStartTimeout bounds releasing the server's resources after it failed
// to listen; there are no connections to wait for.
const failedStartTimeout = 5 * time.Second

// reloadFrom is what serve needs to reload the config on SIGHUP: the
// -config file ("" for the built-in defaults) and the logger's level.
type reloadFrom struct {
	path  string
	level zap.AtomicLevel
}

// serve runs the server until the first signal other than SIGHUP, then
// shuts it down gracefully; each SIGHUP before it reloads the config
// (reload.go). A second signal cuts the shutdown short. It returns the
// exit status.
func serve(full Config, log *zap.Logger, signals <-chan os.Signal, from reloadFrom) int {
	cfg := full.Server
	srv, err := server.New(cfg, log)
	if err != nil {
		log.Error("cannot start server", zap.Error(err))
		return 1
	}
	closeChat := func(context.Context) error { return nil }
	// The admin listener first: /readyz says "starting" meanwhile.
	adm, err := startAdmin(full, srv, log)
	// failed logs what could not start and undoes what did.
	failed := func(what string, err error) int {
		log.Error("cannot start "+what, zap.Error(err))
		ctx, cancel := context.WithTimeout(context.Background(), failedStartTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = closeChat(ctx)
		adm.stop(log)
		return 1
	}
	if err != nil {
		return failed("the admin listener", err)
	}
	if full.Web.Enabled {
		if err := srv.HandleFiles(web.Files()); err != nil {
			return failed("the chat page", err)
		}
	}
	// One login throttle for /ws and every bridged path with login: true,
	// so that a guesser cannot spread attempts over them (chat.login).
	logins := throttle.New(chat.ThrottleConfig(full.Chat.Login))
	var chatSvc *chatService
	if full.Chat.Enabled {
		if chatSvc, err = startChat(full, logins, log); err != nil {
			return failed("chat", err)
		}
		if chatSvc.node != nil {
			srv.SetHealth(chatSvc.node.health)
		}
		srv.Handle("/ws", chatSvc)
		srv.HandlePrefix("/ws/", chatSvc) // /ws/NAME logs in as NAME
		closeChat = chatSvc.close
	}
	br, bridgeAuth, err := startBridge(full, chatSvc, logins, log)
	if err != nil {
		return failed("the bridge", err)
	}
	for _, r := range br.Routes() {
		srv.Handle(r.Path, r.Endpoint)
	}
	// After the server: its connections' processes are being stopped.
	closeChat = func(ctx context.Context) error {
		err := br.Close(ctx)
		if chatSvc != nil {
			err = errors.Join(err, chatSvc.close(ctx))
		}
		return err
	}
	apiSrv, err := startAPI(full, chatSvc, srv.TLSConfig(), log)
	if err != nil {
		return failed("the API", err)
	}
	stopAPI := func() error {
		if apiSrv == nil {
			return nil
		}
		// Bounded on its own: requests in flight get api.shutdown_timeout.
		ctx, cancel := context.WithTimeout(context.Background(), full.API.ShutdownTimeout)
		defer cancel()
		return apiSrv.Shutdown(ctx)
	}
	rl := newReloader(full, from, log, srv, logins, chatSvc, bridgeAuth)
	served := make(chan error, 1)
	if ln, err := net.Listen("tcp", cfg.Listen); err != nil {
		served <- fmt.Errorf("listen %s: %w", cfg.Listen, err)
	} else {
		go func() { served <- srv.Serve(ln) }()
		adm.started(metricSources{srv: srv, chat: chatSvc, bridge: br, reloads: rl.stats})
	}

	var sig os.Signal
	for sig == nil {
		select {
		case err := <-served:
			// Failed without a signal, e.g. the address is in use.
			log.Error("server failed", zap.Error(err))
			ctx, cancel := context.WithTimeout(context.Background(), failedStartTimeout)
			defer cancel()
			if err := stopAPI(); err != nil {
				log.Warn("release api", zap.Error(err))
			}
			if err := srv.Shutdown(ctx); err != nil {
				log.Warn("release server", zap.Error(err))
			}
			if err := closeChat(ctx); err != nil {
				log.Warn("release chat", zap.Error(err))
			}
			adm.stop(log)
			return 1
		case s := <-signals:
			if s == syscall.SIGHUP {
				_ = rl.reload() // logged; the server keeps serving either way
				continue
			}
			sig = s
		}
	}
	// shutdown_timeout as last reloaded.
	cfg.ShutdownTimeout = rl.running.Server.ShutdownTimeout
	log.Info("shutting down", zap.Stringer("signal", sig), zap.Duration("timeout", cfg.ShutdownTimeout))
	// Not ready from now on: a load balancer stops sending new clients
	// while the connections drain. Metrics are served to the end.
	adm.draining()
	defer adm.stop(log)

	// hard ends every wait at a second signal; ctx bounds the connections'
	// drain by shutdown_timeout. The chat pools get a wait of their own
	// after it (closeTimeout), so a drain that used all of its time does
	// not leave them none.
	hard, stop := context.WithCancel(context.Background())
	defer stop()
	ctx, cancel := context.WithTimeout(hard, cfg.ShutdownTimeout+shutdownSlack)
	defer cancel()
	go func() {
		for {
			select {
			case sig := <-signals:
				if sig == syscall.SIGHUP {
					log.Info("reload: ignored while shutting down")
					continue
				}
				log.Warn("second signal: dropping open connections", zap.Stringer("signal", sig))
				stop()
			case <-hard.Done():
			}
			return
		}
	}()

	status := 0
	// The API first: no backend call reaches the chat service once it
	// starts closing.
	if err := stopAPI(); err != nil {
		log.Error("api shutdown incomplete", zap.Error(err))
		status = 1
	}
	if err := srv.Shutdown(ctx); err != nil {
		log.Error("graceful shutdown incomplete", zap.Error(err))
		status = 1
	}
	if err := <-served; err != nil {
		log.Error("server failed", zap.Error(err))
		status = 1
	}
	poolsTimeout := poolsCloseTimeout
	if full.Cluster.Enabled {
		poolsTimeout = clusterPoolsCloseTimeout
	}
	chatCtx, chatCancel := context.WithTimeout(hard, poolsTimeout)
	defer chatCancel()
	if err := closeChat(chatCtx); err != nil {
		log.Error("chat shutdown incomplete", zap.Error(err))
		status = 1
	}
	log.Info("stopped", zap.Int("status", status))
	return status
}

// startAPI serves the HTTP API on api.listen when a key is configured and
// chat is on; it returns nil when the API is off. The API's sender name is
// reserved first, so no user can log in with it.
//
// With server.tls on, the API serves HTTPS with the same certificate (and
// client_auth), following its reloads: tlsCfg is the server's.
func startAPI(full Config, chatSvc *chatService, tlsCfg *tls.Config, log *zap.Logger) (*api.Server, error) {
	cfg := full.API
	if !cfg.Enabled() {
		return nil, nil
	}
	if chatSvc == nil {
		return nil, errors.New("api: needs chat.enabled")
	}
	key, err := cfg.LoadKey()
	if err != nil {
		return nil, err
	}
	chatSvc.Reserve(cfg.Sender)
	var opts []api.Option
	if tlsCfg != nil {
		opts = append(opts, api.WithTLS(tlsCfg))
	}
	s, err := api.Listen(cfg, api.NewHandler(cfg, key, chatSvc.Service), log.Named("api"), opts...)
	if err != nil {
		return nil, err
	}
	s.Start()
	log.Info("api listening", zap.Stringer("addr", s.Addr()), zap.String("sender", cfg.Sender), zap.Bool("tls", tlsCfg != nil))
	return s, nil
}
