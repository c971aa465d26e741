package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"go.uber.org/zap"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/throttle"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/cluster/jsmail"
	"github.com/chatd/chatd/server/history"
	"github.com/chatd/chatd/server/mailbox"
	"github.com/chatd/chatd/server/webhook"
	"github.com/chatd/chatd/server/wire"
)

// chatService is the /ws endpoint with what it owns.
type chatService struct {
	*chat.Service
	box   offlineStore   // bbolt, or JetStream in a cluster
	node  *clusterNode   // nil on a single node
	hist  *history.Store // nil unless chat.history.durable
	hooks *webhook.Sink  // nil unless webhooks.url
	authn auth.Authenticator
}

// openHistory opens the room history store when chat.history.durable asks
// for one (and history is on), next to the mailbox.
func openHistory(cfg chat.Config, log *zap.Logger) (*history.Store, []chat.Option, error) {
	h := cfg.History
	if !h.Durable || h.Messages == 0 {
		return nil, nil, nil
	}
	st, err := history.Open(history.Config{Dir: cfg.Mailbox.Dir, FlushInterval: h.FlushInterval,
		Messages: h.Messages, MaxBytes: h.MaxBytes, MaxAge: h.MaxAge}, log.Named("history"))
	if err != nil {
		return nil, nil, err
	}
	return st, []chat.Option{chat.WithHistoryStore(st)}, nil
}

// startChat opens the mailbox and builds the chat service, counting its
// logins in logins.
func startChat(cfg Config, logins *throttle.Throttle, log *zap.Logger) (*chatService, error) {
	authn, err := newAuthenticator(cfg.Auth, log)
	if err != nil {
		return nil, fmt.Errorf("auth backend %s: %w", cfg.Auth.Backend, err)
	}
	var box offlineStore
	var node *clusterNode
	var opts []chat.Option
	where := ""
	if cfg.Cluster.Enabled {
		if node, err = joinCluster(cfg, log); err != nil {
			return nil, err
		}
		box, where = clusterMailbox{node.box, node}, "jetstream "+node.node.Name()
		opts = append(opts, node.option())
	} else {
		st, err := mailbox.Open(cfg.Chat.Mailbox.Config, log.Named("mailbox"))
		if err != nil {
			return nil, err
		}
		box, where = st, st.Path()
	}
	var hist *history.Store
	if node == nil { // in a cluster the room streams keep the history (durable: on disk)
		var hopts []chat.Option
		hist, hopts, err = openHistory(cfg.Chat, log)
		opts = append(opts, hopts...)
		if err != nil {
			box.Close()
			return nil, err
		}
	}
	var hooks *webhook.Sink
	if cfg.Webhooks.URL != "" {
		wcfg := cfg.Webhooks
		wcfg.Dir = cfg.Chat.Mailbox.Dir
		if hooks, err = webhook.New(wcfg, log.Named("webhooks")); err != nil {
			box.Close()
			if hist != nil {
				hist.Close()
			}
			return nil, err
		}
		opts = append(opts, chat.WithEvents(hooks))
		hooks.Emit(wire.Event{Type: wire.EventStart}) // after what an earlier run left in the file
		log.Info("webhooks on", zap.String("url", wcfg.URL), zap.Bool("durable", wcfg.Durable))
	}
	opts = append(opts, chat.WithThrottle(logins))
	svc, err := chat.New(cfg.Chat, cfg.Auth.AuthConfig, chatBackend(cfg.Auth, authn), box, log.Named("chat"), opts...)
	if err != nil {
		box.Close()
		if hist != nil {
			hist.Close()
		}
		if hooks != nil {
			// Nothing was emitted: give back (durable) what it loaded, at once.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_ = hooks.Close(ctx)
		}
		return nil, err
	}
	log.Info("chat ready", zap.String("auth", cfg.Auth.Backend), zap.String("mailbox", where))
	return &chatService{Service: svc, box: box, node: node, hist: hist, hooks: hooks, authn: authn}, nil
}

// close stops the chat pools and closes the mailbox and the history store
// (which writes what is pending), then the webhooks, which send what is
// queued (the logouts of the shutdown too) until ctx is done. Call it
// after the server has shut down.
func (c *chatService) close(ctx context.Context) error {
	err := errors.Join(c.Service.Close(ctx), c.box.Close())
	if c.hooks != nil {
		err = errors.Join(err, c.hooks.Close(ctx))
	}
	if c.hist != nil {
		err = errors.Join(err, c.hist.Close())
	}
	if closer, ok := c.authn.(io.Closer); ok { // the http backend's idle connections
		err = errors.Join(err, closer.Close())
	}
	return err
}

// offlineStore is the offline mailbox the chat service uses, closed with it.
type offlineStore interface {
	chat.Mailbox
	Close() error
}

// clusterMailbox is a cluster node's JetStream mailbox (the methods of
// *jsmail.Store, its Prune included) whose Close leaves the cluster too:
// the node goes after the chat service that used it.
type clusterMailbox struct {
	*jsmail.Store
	node *clusterNode
}

func (c clusterMailbox) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), poolsCloseTimeout)
	defer cancel()
	return c.node.close(ctx) // closes the Store first
}
