package main

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestClusterExamplesLoad: the 3-node example of docs/CLUSTER.md loads,
// is valid, and describes one mesh: distinct node names and ports, every
// node routing to every node's cluster_listen.
func TestClusterExamplesLoad(t *testing.T) {
	listens := map[string]bool{}
	for i := 1; i <= 3; i++ {
		path := filepath.Join("..", "..", "configs", fmt.Sprintf("cluster-node%d.yaml", i))
		cfg, err := LoadConfig(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		c := cfg.Cluster
		if !c.Enabled || c.Node != fmt.Sprintf("node%d", i) || c.NATS.Replicas != 3 || !c.NATS.Embedded.Enabled {
			t.Fatalf("%s: cluster %+v", path, c)
		}
		for _, addr := range []string{cfg.Server.Listen, c.NATS.Embedded.Listen, c.NATS.Embedded.ClusterListen} {
			if listens[addr] {
				t.Fatalf("%s: %s used twice", path, addr)
			}
			listens[addr] = true
		}
		if len(c.NATS.Embedded.Routes) != 3 {
			t.Fatalf("%s: routes %v", path, c.NATS.Embedded.Routes)
		}
		for _, r := range c.NATS.Embedded.Routes {
			listens["route "+r] = true
		}
	}
	for i := 1; i <= 3; i++ {
		if !listens[fmt.Sprintf("route nats://127.0.0.1:622%d", i)] || !listens[fmt.Sprintf("127.0.0.1:622%d", i)] {
			t.Fatalf("node %d's cluster_listen is not in the routes", i)
		}
	}
}
