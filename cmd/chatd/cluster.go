package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/cluster"
	"github.com/chatd/chatd/server/cluster/jsmail"
)

// clusterJoinTimeout bounds how long a node waits at start for NATS and
// JetStream (a mesh of embedded servers elects its JetStream leader once
// enough of them are up).
const clusterJoinTimeout = 60 * time.Second

// clusterNode is this process's part of a cluster: the embedded NATS
// server when it runs one, its connection, and the shared mailbox.
type clusterNode struct {
	embedded *natsserver.Server // nil with cluster.nats.urls
	node     *cluster.Node
	box      *jsmail.Store
}

// joinCluster starts the embedded NATS server if configured, connects to
// NATS and opens the JetStream mailbox with chat.mailbox's quotas.
func joinCluster(cfg Config, log *zap.Logger) (*clusterNode, error) {
	c := cfg.Cluster
	cn := &clusterNode{}
	var err error
	if c.NATS.Embedded.Enabled {
		if cn.embedded, err = cluster.StartEmbedded(c, log.Named("nats")); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterJoinTimeout)
	defer cancel()
	urls := cluster.ClientURLs(c, cn.embedded)
	if cn.node, err = cluster.Connect(ctx, c, urls, log.Named("cluster")); err != nil {
		cn.close(context.Background())
		return nil, err
	}
	mcfg := jsmail.Default()
	mcfg.Config = cfg.Chat.Mailbox.Config
	mcfg.Replicas = c.NATS.Replicas
	if cn.box, err = openMailboxRetrying(ctx, cn.node, mcfg, log.Named("mailbox")); err != nil {
		cn.close(context.Background())
		return nil, err
	}
	log.Info("cluster joined", zap.String("node", cn.node.Name()), zap.Strings("nats", urls),
		zap.Int("replicas", c.NATS.Replicas), zap.Bool("embedded", cn.embedded != nil))
	return cn, nil
}

// openMailboxRetrying opens the JetStream mailbox, waiting while a mesh
// has too few servers for its replicas.
func openMailboxRetrying(ctx context.Context, n *cluster.Node, cfg jsmail.Config, log *zap.Logger) (*jsmail.Store, error) {
	for {
		box, err := jsmail.Open(n.JetStream(), cfg, log)
		if err == nil {
			return box, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster mailbox: %w", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// option makes the chat service a node of the cluster.
func (cn *clusterNode) option() chat.Option { return chat.WithCluster(cn.node) }

// health is the /healthz detail: "" when connected to NATS.
func (cn *clusterNode) health() string {
	if bad, why := cn.node.Degraded(); bad {
		return "cluster degraded: " + why
	}
	return ""
}

// close leaves the cluster (its claims given back) and stops the embedded
// server. Call it after the chat service has closed.
func (cn *clusterNode) close(ctx context.Context) error {
	var errs []error
	if cn.box != nil {
		errs = append(errs, cn.box.Close())
	}
	if cn.node != nil {
		errs = append(errs, cn.node.Close(ctx))
	}
	if cn.embedded != nil {
		cn.embedded.Shutdown()
		cn.embedded.WaitForShutdown()
	}
	return errors.Join(errs...)
}
