package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Node is this chatd process's membership of the cluster: its connection
// to NATS, the session claims of its users (presence.go), its inbox for
// private messages (route.go) and the room streams it follows
// (history.go, follow.go).
//
// Connect returns once the connection is up and the sessions bucket
// exists; after that NATS may go away and come back at any time: Node
// reconnects by itself, reports Degraded meanwhile, and makes its claims
// again when it is back.
type Node struct {
	name string
	ttl  time.Duration
	log  *zap.Logger
	nc   *nats.Conn
	js   jetstream.JetStream
	kv   jetstream.KeyValue
	// kvCfg is the sessions bucket's config, for making it again after
	// NATS lost it (presence.recreate).
	kvCfg jetstream.KeyValueConfig

	degraded  atomic.Bool
	degradeAt atomic.Int64 // unix ns when the connection was lost, 0 = up
	lastErr   atomic.Pointer[string]

	presence    *presence
	router      *router
	streams     *roomStreams  // room history (history.go)
	replicas    int           // of the JetStream streams and buckets
	joinWait    time.Duration // Config.JoinWait
	streamSlack int           // Config.StreamSlack

	stop chan struct{}
	wg   sync.WaitGroup
}

// sessionsBucket is the KV bucket of session claims, shared by the nodes.
const sessionsBucket = "chatd_sessions"

// setupTimeout bounds how long Connect waits for JetStream to create the
// sessions bucket (a mesh elects its JetStream leader first).
const setupTimeout = 30 * time.Second

// setupAttemptTimeout bounds one attempt to create the sessions bucket
// (and one request for its status, presence.watch).
const setupAttemptTimeout = 2 * time.Second

// Connect joins the cluster described by c through the NATS servers at urls
// (ClientURLs). It blocks until NATS answers and the sessions bucket exists,
// or ctx ends.
func Connect(ctx context.Context, c Config, urls []string, log *zap.Logger) (*Node, error) {
	n := &Node{name: c.NodeName(), ttl: c.PresenceTTL, log: log, stop: make(chan struct{}), replicas: c.NATS.Replicas,
		joinWait: cmp.Or(c.JoinWait, defaultJoinWait), streamSlack: c.StreamSlack}
	n.router = newRouter(n) // before the connection: its handlers use it
	nc, err := nats.Connect(strings.Join(urls, ","),
		nats.Name("chatd "+n.name),
		nats.NoEcho(), // a node never wants what it published itself
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.RetryOnFailedConnect(true),
		nats.PingInterval(2*time.Second),
		nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { n.lost(err) }),
		nats.ReconnectHandler(func(*nats.Conn) { n.back() }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			n.log.Warn("nats async error", zap.String("subject", subj), zap.Error(err))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to %v: %w", urls, err)
	}
	n.nc = nc
	if n.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: jetstream: %w", err)
	}
	if n.streams, err = newRoomStreams(n); err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: jetstream: %w", err)
	}
	if err := n.setup(ctx, c); err != nil {
		nc.Close()
		return nil, err
	}
	if !nc.IsConnected() {
		n.lost(nats.ErrDisconnected)
	}
	return n, nil
}

// setup creates the sessions bucket and starts the presence watch and the
// private-message inbox, retrying while JetStream is not ready yet.
func (n *Node) setup(ctx context.Context, c Config) error {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	cfg := jetstream.KeyValueConfig{
		Bucket:         sessionsBucket,
		Description:    "chatd session claims: one key per (user, slot)",
		History:        1,
		LimitMarkerTTL: n.ttl,
		Storage:        jetstream.MemoryStorage,
		Replicas:       c.NATS.Replicas,
	}
	n.kvCfg = cfg
	var err error
	for {
		// Each attempt has its own deadline: a request made before the
		// mesh has a JetStream meta leader gets no answer at all, and one
		// bounded only by ctx would use up the whole setupTimeout (the
		// three nodes of a mesh started together then never start).
		actx, acancel := context.WithTimeout(ctx, setupAttemptTimeout)
		n.kv, err = n.js.CreateOrUpdateKeyValue(actx, cfg)
		acancel()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: create bucket %s: %w", sessionsBucket, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	n.presence = newPresence(n)
	if err := n.presence.start(ctx); err != nil {
		return err
	}
	if err := n.router.start(); err != nil {
		return err
	}
	n.wg.Go(n.presence.refreshLoop)
	n.wg.Go(n.streams.sweepLoop)
	return nil
}

// Name is this node's name.
func (n *Node) Name() string { return n.name }

// JetStream is the node's JetStream context, for the offline mailbox.
func (n *Node) JetStream() jetstream.JetStream { return n.js }

// Degraded reports whether the node is cut off from NATS: it then serves
// its own users only (what it cannot promise is refused), and says why.
func (n *Node) Degraded() (bool, string) {
	if !n.degraded.Load() {
		return false, ""
	}
	why := "disconnected from NATS"
	if e := n.lastErr.Load(); e != nil {
		why += ": " + *e
	}
	if at := n.degradeAt.Load(); at != 0 {
		why += fmt.Sprintf(" for %s", time.Since(time.Unix(0, at)).Round(time.Second))
	}
	return true, why
}

func (n *Node) lost(err error) {
	if n.degraded.Swap(true) {
		return
	}
	n.degradeAt.Store(time.Now().UnixNano())
	if err != nil {
		e := err.Error()
		n.lastErr.Store(&e)
	}
	n.log.Warn("cluster degraded: lost NATS", zap.Error(err))
	n.router.failAll(&degradedError{"disconnected from NATS"})
}

func (n *Node) back() {
	n.log.Info("cluster: NATS is back", zap.String("server", n.nc.ConnectedUrlRedacted()))
	n.degradeAt.Store(0)
	n.degraded.Store(false)
	if n.presence != nil {
		n.presence.kick()
	}
	if n.streams != nil {
		n.streams.checkFollowers()
	}
}

// Close releases this node's claims (best effort, bounded by ctx) and
// leaves NATS.
func (n *Node) Close(ctx context.Context) error {
	select {
	case <-n.stop:
		return nil
	default:
	}
	close(n.stop)
	n.streams.stopAll()
	n.wg.Wait()
	var errs []error
	if bad, _ := n.Degraded(); n.presence != nil && !bad {
		// Cut off, the claims cannot be given back: they end with the
		// heartbeat, within presence_ttl.
		errs = append(errs, n.presence.releaseAll(ctx))
	}
	if err := n.nc.FlushWithContext(ctx); err != nil && !n.degraded.Load() {
		errs = append(errs, fmt.Errorf("cluster: flush: %w", err))
	}
	n.nc.Close()
	return errors.Join(errs...)
}
