package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
)

// embeddedConfig is an embedded single server on a free port in a test
// directory.
func embeddedConfig(tb testing.TB) Config {
	tb.Helper()
	c := DefaultConfig()
	c.Enabled = true
	c.NATS.Embedded.Enabled = true
	c.NATS.Embedded.Listen = "127.0.0.1:0"
	c.NATS.Embedded.StoreDir = tb.TempDir()
	return c
}

// mustStart starts c's embedded server and shuts it down at the end of tb.
func mustStart(tb testing.TB, c Config) *natsserver.Server {
	tb.Helper()
	if err := c.Validate(); err != nil {
		tb.Fatalf("Validate: %v", err)
	}
	s, err := StartEmbedded(c, zaptest.NewLogger(tb, zaptest.Level(zapcore.WarnLevel)))
	if err != nil {
		tb.Fatalf("StartEmbedded: %v", err)
	}
	tb.Cleanup(func() { stopServer(s) })
	return s
}

// stopServer shuts s down and waits until it has; again is a no-op.
func stopServer(s *natsserver.Server) {
	s.Shutdown()
	s.WaitForShutdown()
}

// dialJS opens a client connection and a JetStream context on urls.
func dialJS(tb testing.TB, urls []string) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	nc, err := nats.Connect(strings.Join(urls, ","), nats.MaxReconnects(0))
	if err != nil {
		tb.Fatalf("connect %v: %v", urls, err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return nc, js
}

// freePort returns a TCP port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func ctxTimeout(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

func TestStartEmbedded(t *testing.T) {
	c := embeddedConfig(t)
	c.Node = "solo"
	s := mustStart(t, c)
	if s.Name() != "solo" {
		t.Errorf("server name %q, want the node name solo", s.Name())
	}
	jc := s.JetStreamConfig()
	if jc == nil || !jc.SyncAlways {
		t.Errorf("JetStream config %+v: want SyncAlways", jc)
	}
	if !strings.HasPrefix(jc.StoreDir, c.NATS.Embedded.StoreDir) {
		t.Errorf("JetStream store %q, want it under %q", jc.StoreDir, c.NATS.Embedded.StoreDir)
	}
	urls := ClientURLs(c, s)
	if len(urls) != 1 || !strings.HasPrefix(urls[0], "nats://127.0.0.1:") || strings.HasSuffix(urls[0], ":0") {
		t.Fatalf("ClientURLs = %q, want nats://127.0.0.1:<picked port>", urls)
	}
	if err := WaitJetStream(ctxTimeout(t, 5*time.Second), s, 1); err != nil {
		t.Fatal(err)
	}
	_, js := dialJS(t, urls)
	ctx := ctxTimeout(t, 10*time.Second)
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	if _, err := js.Publish(ctx, "t.1", []byte("hello")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	m, err := st.GetMsg(ctx, 1)
	if err != nil || string(m.Data) != "hello" {
		t.Fatalf("GetMsg = %v, %v; want hello", m, err)
	}
	// A single server cannot give 3 replicas.
	if err := WaitJetStream(ctxTimeout(t, 200*time.Millisecond), s, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitJetStream(3 peers) on one server = %v, want a deadline error", err)
	}
}

func TestClientURLs(t *testing.T) {
	c := embeddedConfig(t)
	c.NATS.URLs = []string{"nats://10.0.0.5:4222"}
	if got := ClientURLs(c, nil); len(got) != 1 || got[0] != "nats://10.0.0.5:4222" {
		t.Errorf("ClientURLs with urls = %q", got)
	}
	c.NATS.URLs = nil
	if got := ClientURLs(c, nil); got != nil {
		t.Errorf("ClientURLs with neither = %q, want nil", got)
	}
	c.NATS.Embedded.Listen = "0.0.0.0:0"
	s := mustStart(t, c)
	got := ClientURLs(c, s)
	if len(got) != 1 || !strings.HasPrefix(got[0], "nats://127.0.0.1:") {
		t.Fatalf("ClientURLs on 0.0.0.0 = %q, want loopback", got)
	}
	dialJS(t, got)
}

func TestStartEmbeddedPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := embeddedConfig(t)
	c.NATS.Embedded.Listen = l.Addr().String()
	start := time.Now()
	s, err := StartEmbedded(c, zap.NewNop())
	if err == nil {
		stopServer(s)
		t.Fatal("StartEmbedded on a busy port succeeded")
	}
	if !strings.Contains(err.Error(), l.Addr().String()) {
		t.Errorf("error %q does not name the listen address %s", err, l.Addr())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %v; want the listen error at once, not the ready timeout", d)
	}
}

// TestStartEmbeddedJetStreamFails: a store that cannot be created fails the
// start with nats-server's reason, at once, and the process lives on.
func TestStartEmbeddedJetStreamFails(t *testing.T) {
	c := embeddedConfig(t)
	c.NATS.Embedded.StoreDir = filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(c.NATS.Embedded.StoreDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := StartEmbedded(c, zap.NewNop())
	if err == nil {
		stopServer(s)
		t.Fatal("StartEmbedded with a file as store_dir succeeded")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "JetStream") || !strings.Contains(err.Error(), c.NATS.Embedded.Listen) {
		t.Errorf("error %q: want JetStream's reason and the listen address", err)
	}
}

// TestRestartKeepsMessages: a stream and its messages survive a restart on
// the same store directory.
func TestRestartKeepsMessages(t *testing.T) {
	c := embeddedConfig(t)
	s, err := StartEmbedded(c, zaptest.NewLogger(t, zaptest.Level(zapcore.WarnLevel)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxTimeout(t, 20*time.Second)
	nc, js := dialJS(t, ClientURLs(c, s))
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "KEEP", Subjects: []string{"keep"}}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := js.Publish(ctx, "keep", fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	nc.Close()
	stopServer(s)

	s = mustStart(t, c)
	_, js = dialJS(t, ClientURLs(c, s))
	st, err := js.Stream(ctx, "KEEP")
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 10 {
		t.Fatalf("%d messages after restart, want 10", info.State.Msgs)
	}
	for i := range 10 {
		m, err := st.GetMsg(ctx, uint64(i+1))
		if err != nil || string(m.Data) != fmt.Sprintf("m%d", i) {
			t.Fatalf("message %d after restart: %v, %v", i+1, m, err)
		}
	}
}

// TestMesh runs three embedded servers routed to each other: a stream with
// 3 replicas, written through one server and read through another, and a
// core NATS message crossing the mesh.
func TestMesh(t *testing.T) {
	const n = 3
	ports := make([]int, n)
	var routes []string
	for i := range ports {
		ports[i] = freePort(t)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	servers := make([]*natsserver.Server, n)
	cfgs := make([]Config, n)
	for i := range servers {
		c := embeddedConfig(t)
		c.Node = fmt.Sprintf("n%d", i+1)
		c.NATS.Replicas = n
		c.NATS.Embedded.ClusterListen = fmt.Sprintf("127.0.0.1:%d", ports[i])
		c.NATS.Embedded.Routes = routes
		cfgs[i], servers[i] = c, mustStart(t, c)
	}
	ctx := ctxTimeout(t, 60*time.Second)
	for _, s := range servers {
		if err := WaitJetStream(ctx, s, n); err != nil {
			t.Fatal(err)
		}
	}
	nc1, js1 := dialJS(t, ClientURLs(cfgs[0], servers[0]))
	nc3, js3 := dialJS(t, ClientURLs(cfgs[2], servers[2]))

	// Core NATS across the mesh.
	sub, err := nc3.SubscribeSync("hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc3.Flush(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := nc1.Publish("hello", []byte("from n1")); err != nil {
			t.Fatal(err)
		}
		// The subscription's interest reaches n1 asynchronously.
		if m, err := sub.NextMsg(100 * time.Millisecond); err == nil {
			if string(m.Data) != "from n1" {
				t.Fatalf("got %q", m.Data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no core message from n1 reached n3")
		}
	}

	st, err := js1.CreateStream(ctx, jetstream.StreamConfig{Name: "MESH", Subjects: []string{"mesh.>"}, Replicas: n})
	if err != nil {
		t.Fatalf("CreateStream R%d: %v", n, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || info.Cluster.Name != meshName || len(info.Cluster.Replicas)+1 != n {
		t.Fatalf("stream cluster %+v, want %d peers in %q", info.Cluster, n, meshName)
	}
	ack, err := js1.Publish(ctx, "mesh.a", []byte("stored"))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	st3, err := js3.Stream(ctx, "MESH")
	if err != nil {
		t.Fatal(err)
	}
	m, err := st3.GetMsg(ctx, ack.Sequence)
	if err != nil || string(m.Data) != "stored" {
		t.Fatalf("GetMsg on n3 = %v, %v; want stored", m, err)
	}

	// Lose n1: the two others still hold the message and, a quorum, take
	// new ones (once the stream has a leader again, if n1 was it).
	nc1.Close()
	stopServer(servers[0])
	for {
		_, err := js3.Publish(ctx, "mesh.b", []byte("after"))
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("Publish with n1 down: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	m, err = st3.GetMsg(ctx, ack.Sequence)
	if err != nil || string(m.Data) != "stored" {
		t.Fatalf("GetMsg on n3 with n1 down = %v, %v; want stored", m, err)
	}
}

func TestZapLoggerLevels(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	l := &zapLogger{log: zap.New(core)}
	l.Noticef("notice %d", 1)
	l.Warnf("warn %d", 2)
	l.Errorf("error %d", 3)
	if l.fatal() != "" {
		t.Fatal("fatal set before Fatalf")
	}
	l.Fatalf("fatal %d", 4)
	l.Fatalf("fatal %d", 5)
	l.Debugf("debug %d", 6)
	l.Tracef("trace %d", 7)
	want := []struct {
		level zapcore.Level
		msg   string
	}{
		{zapcore.InfoLevel, "notice 1"}, {zapcore.WarnLevel, "warn 2"}, {zapcore.ErrorLevel, "error 3"},
		{zapcore.ErrorLevel, "fatal 4"}, {zapcore.ErrorLevel, "fatal 5"},
		{zapcore.DebugLevel, "debug 6"}, {zapcore.DebugLevel, "trace 7"},
	}
	got := logs.All()
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Level != w.level || got[i].Message != w.msg {
			t.Errorf("entry %d = %v %q, want %v %q", i, got[i].Level, got[i].Message, w.level, w.msg)
		}
	}
	if l.fatal() != "fatal 4" {
		t.Errorf("fatal() = %q, want the first Fatalf message", l.fatal())
	}
}
