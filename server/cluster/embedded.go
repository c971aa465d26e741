package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sync"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// meshName is the NATS cluster name of a mesh of embedded servers.
const meshName = "chatd"

// readyTimeout bounds how long StartEmbedded waits for the server's
// listeners after its start (JetStream recovery, which comes before, is not
// counted).
const readyTimeout = 10 * time.Second

// StartEmbedded runs the NATS server of c.NATS.Embedded in this process and
// returns it once it accepts clients, or an error naming its listen address.
// The server is named c.NodeName(), keeps JetStream in StoreDir and syncs
// every JetStream write to disk before acknowledging it (sync_interval:
// always), joins the mesh "chatd" through ClusterListen and Routes when
// ClusterListen is set, installs no signal handlers and logs through log,
// named "nats". A port 0 in Listen or ClusterListen picks a free one
// (ClientURLs and s.ClusterAddr() report it).
//
// The caller stops it with s.Shutdown (then s.WaitForShutdown). In a mesh,
// JetStream can take seconds more to elect its meta leader: see
// WaitJetStream.
func StartEmbedded(c Config, log *zap.Logger) (*natsserver.Server, error) {
	e := c.NATS.Embedded
	host, port, err := splitHostPort(e.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats: cluster.nats.embedded.listen %q: %w", e.Listen, err)
	}
	opts := &natsserver.Options{
		ServerName: c.NodeName(),
		Host:       host,
		Port:       randomIfZero(port),
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   e.StoreDir,
		SyncAlways: true,
	}
	if e.ClusterListen != "" {
		chost, cport, err := splitHostPort(e.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("nats: cluster.nats.embedded.cluster_listen %q: %w", e.ClusterListen, err)
		}
		opts.Cluster = natsserver.ClusterOpts{Name: meshName, Host: chost, Port: randomIfZero(cport)}
		for _, r := range e.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("nats: cluster.nats.embedded.routes %q: %w", r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	s, err := natsserver.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats: embedded server on %s: %w", e.Listen, err)
	}
	logger := &zapLogger{log: log.Named("nats").WithOptions(zap.WithCaller(false)).With(zap.String("server", opts.ServerName))}
	// Trace stays off even at debug level: it logs every protocol message.
	s.SetLoggerV2(logger, log.Core().Enabled(zapcore.DebugLevel), false, false)

	s.Start()
	deadline := time.Now().Add(readyTimeout)
	for {
		if msg := logger.fatal(); msg != "" {
			s.Shutdown()
			s.WaitForShutdown()
			return nil, fmt.Errorf("nats: embedded server on %s: %s", e.Listen, msg)
		}
		if s.ReadyForConnections(50 * time.Millisecond) {
			break
		}
		if time.Now().After(deadline) {
			s.Shutdown()
			s.WaitForShutdown()
			return nil, fmt.Errorf("nats: embedded server on %s: not ready for connections after %v", e.Listen, readyTimeout)
		}
	}
	if !s.JetStreamEnabled() {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("nats: embedded server on %s: JetStream did not start (see the log)", e.Listen)
	}
	return s, nil
}

// randomIfZero maps port 0 ("pick one") to NATS's RANDOM_PORT: NATS reads
// 0 as "the default port".
func randomIfZero(port int) int {
	if port == 0 {
		return natsserver.RANDOM_PORT
	}
	return port
}

// ClientURLs returns the NATS URLs this node connects to: c.NATS.URLs when
// set, otherwise the embedded server s's own (with an unspecified listen host
// such as 0.0.0.0 replaced by loopback). s may be nil when URLs are set.
func ClientURLs(c Config, s *natsserver.Server) []string {
	if len(c.NATS.URLs) > 0 {
		return slices.Clone(c.NATS.URLs)
	}
	if s == nil {
		return nil
	}
	raw := s.ClientURL()
	u, err := url.Parse(raw)
	if err != nil {
		return []string{raw}
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() == "" || ip != nil && ip.IsUnspecified() {
		loop := "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			loop = "::1"
		}
		u.Host = net.JoinHostPort(loop, u.Port())
	}
	return []string{u.String()}
}

// WaitJetStream waits until s's JetStream is ready for streams with peers
// replicas: this server is in contact with the meta leader and current with
// it, and at least peers JetStream servers (this one included) are online.
// A single server (no mesh) is ready as soon as it has started. It returns
// ctx's error, with what was still missing, when ctx ends first.
func WaitJetStream(ctx context.Context, s *natsserver.Server, peers int) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		missing := jetStreamMissing(s, peers)
		if missing == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nats: JetStream of %s not ready: %v: %w", s.Name(), missing, ctx.Err())
		case <-t.C:
		}
	}
}

// jetStreamMissing says why s's JetStream is not ready for peers replicas,
// or returns nil when it is.
func jetStreamMissing(s *natsserver.Server, peers int) error {
	if !s.JetStreamEnabled() {
		return errors.New("JetStream is not enabled")
	}
	if h := s.Healthz(&natsserver.HealthzOptions{JSMetaOnly: true}); h.Error != "" || h.Status != "ok" {
		return fmt.Errorf("%s", h.Error)
	}
	if peers <= 1 || !s.JetStreamIsClustered() {
		if peers > 1 {
			return fmt.Errorf("a single server, want %d peers", peers)
		}
		return nil
	}
	jsi, err := s.Jsz(nil)
	if err != nil {
		return err
	}
	online := 1 // this server
	if jsi.Meta != nil {
		for _, p := range jsi.Meta.Replicas {
			if !p.Offline {
				online++
			}
		}
	}
	if online < peers {
		return fmt.Errorf("%d of %d JetStream servers online", online, peers)
	}
	return nil
}

// zapLogger is nats-server's Logger on a zap.Logger. It keeps the first
// Fatalf message, so StartEmbedded can report why a start failed instead of
// the process exiting (nats-server's own logger exits on Fatalf). Safe for
// concurrent use.
type zapLogger struct {
	log *zap.Logger

	mu       sync.Mutex // guards fatalMsg
	fatalMsg string
}

var _ natsserver.Logger = (*zapLogger)(nil)

func (l *zapLogger) logf(lvl zapcore.Level, format string, v []any) {
	if ce := l.log.Check(lvl, ""); ce != nil {
		ce.Message = fmt.Sprintf(format, v...)
		ce.Write()
	}
}

// Noticef logs at Info.
func (l *zapLogger) Noticef(format string, v ...any) { l.logf(zapcore.InfoLevel, format, v) }

// Warnf logs at Warn.
func (l *zapLogger) Warnf(format string, v ...any) { l.logf(zapcore.WarnLevel, format, v) }

// Errorf logs at Error.
func (l *zapLogger) Errorf(format string, v ...any) { l.logf(zapcore.ErrorLevel, format, v) }

// Fatalf logs at Error and keeps the first message for fatal; it does not
// exit.
func (l *zapLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.mu.Lock()
	if l.fatalMsg == "" {
		l.fatalMsg = msg
	}
	l.mu.Unlock()
	l.log.Error(msg, zap.Bool("fatal", true))
}

// Debugf logs at Debug.
func (l *zapLogger) Debugf(format string, v ...any) { l.logf(zapcore.DebugLevel, format, v) }

// Tracef logs at Debug.
func (l *zapLogger) Tracef(format string, v ...any) { l.logf(zapcore.DebugLevel, format, v) }

// fatal returns the first Fatalf message, or "".
func (l *zapLogger) fatal() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatalMsg
}
