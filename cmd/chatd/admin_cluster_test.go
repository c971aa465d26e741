package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// TestAdminReadyzCluster: a cluster node's /readyz is 503 "starting"
// while NATS is not there yet (the node waits for it before serving),
// 200 once it joined and serves, 503 "cluster degraded" while cut off
// from NATS, with chatd_cluster_degraded 1, and 200 again once NATS is
// back.
func TestAdminReadyzCluster(t *testing.T) {
	port := freePorts(t, 1)[0]
	dir := t.TempDir()
	startNATS := func() *natsserver.Server {
		t.Helper()
		ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoSigs: true})
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatal("NATS did not start within 10s")
		}
		return ns
	}
	cfg := clusterNodeConfig("a", 3*time.Second, fmt.Sprintf("    urls: [\"nats://127.0.0.1:%d\"]\n", port))
	cfg = strings.Replace(cfg, "log:\n", "admin:\n  listen: \"127.0.0.1:0\"\nlog:\n", 1)
	r := startRun(t, cfg)
	adm := r.logs.adminAddr(t)
	waitStatus(t, "http://"+adm+"/readyz", 503, "not ready: starting")

	ns := startNATS()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			ns.Shutdown()
			ns.WaitForShutdown()
		}
	})
	r.logs.listenAddr(t)
	waitStatus(t, "http://"+adm+"/readyz", 200, "ready")
	waitMetrics(t, adm, []want{
		{"chatd_cluster_degraded", nil, 0},
		{"chatd_cluster_nodes_alive", nil, 1},
	}, 10*time.Second)

	ns.Shutdown()
	ns.WaitForShutdown()
	stopped = true
	waitStatus(t, "http://"+adm+"/readyz", 503, "not ready: cluster degraded")
	waitStatus(t, "http://"+adm+"/healthz", 200, "cluster degraded")
	waitMetrics(t, adm, []want{{"chatd_cluster_degraded", nil, 1}}, 10*time.Second)

	ns = startNATS()
	stopped = false
	waitStatus(t, "http://"+adm+"/readyz", 200, "ready")
}
