package chat

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/throttle"
	"github.com/chatd/chatd/server"
)

// offlineShards is the number of mailbox goroutines; each user maps to one.
const offlineShards = 8

// pruneEvery is how often expired mailbox messages are removed.
const pruneEvery = 5 * time.Minute

// pruner is implemented by mailboxes that drop expired messages on request.
type pruner interface {
	Prune(now time.Time) (removed int, err error)
}

// offlineDepth is the number of mailbox operations one shard queues before
// senders are told the server is busy.
const offlineDepth = 4096

// Service is the /ws endpoint. It is safe for concurrent use.
type Service struct {
	// cfg is the Config New was given; what Reconfigure changes is read
	// from liveCfg instead (reconfigure.go).
	cfg      Config
	liveCfg  atomic.Pointer[liveConfig]
	authCfg  AuthConfig
	log      *zap.Logger
	authn    auth.Authenticator
	dir      auth.Directory // nil when the backend does not know its users
	auth     *authPool
	throttle *throttle.Throttle // WithThrottle, or its own from chat.login
	offline  *offlineQueue
	// keepsMail: private messages to offline users are stored. False with
	// the anonymous backend unless chat.mailbox.anonymous is set.
	keepsMail bool
	// immediate: the backend never waits (auth.Immediate), so logins are
	// checked inline on the connection's loop rather than on the pool.
	immediate bool
	users     *users
	rooms     *rooms
	cluster   Cluster // nil on a single node (cluster.go)
	resume    *resumes
	ids       idGen
	roomName  *regexp.Regexp
	autoJoin  map[string]bool
	// workers are the pools' goroutines (auth, offline queue, janitor);
	// Close waits for them.
	workers sync.WaitGroup
	events  EventSink // never nil: noEvents without WithEvents (events.go)
	st      stats     // counters for Stats (stats.go)
	baseCtx context.Context
	stop    chan struct{} // closed by Close
}

var _ server.Endpoint = (*Service)(nil)

// New builds the chat service for cfg and chat's share of the auth:
// section, checking logins with backend. box stores offline messages; a
// WithHistoryStore option makes room history durable.
func New(cfg Config, authCfg AuthConfig, backend Backend, box Mailbox, log *zap.Logger, opts ...Option) (*Service, error) {
	if err := errors.Join(cfg.Validate(), authCfg.Validate()); err != nil {
		return nil, fmt.Errorf("invalid config:\n%w", err)
	}
	if backend.Authenticator == nil {
		return nil, errors.New("chat: no authenticator")
	}
	authn := backend.Authenticator
	re, err := regexp.Compile(cfg.Rooms.NamePattern)
	if err != nil {
		return nil, fmt.Errorf("chat.rooms.name_pattern: %w", err)
	}
	s := &Service{
		cfg:      cfg,
		authCfg:  authCfg,
		log:      log,
		authn:    authn,
		roomName: re,
		autoJoin: map[string]bool{},
		baseCtx:  context.Background(),
		stop:     make(chan struct{}),
	}
	s.liveCfg.Store(&liveConfig{rate: cfg.Rate, login: cfg.Login, rooms: cfg.Rooms})
	s.dir, _ = authn.(auth.Directory)
	_, s.immediate = authn.(auth.Immediate)
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s.cluster = o.cluster
	if s.cluster != nil {
		s.immediate = false // a login's claim waits for NATS: the pool makes it
	}
	for _, r := range cfg.Rooms.AutoJoin {
		s.autoJoin[r] = true
	}
	s.auth = &authPool{authn: authn, timeout: cfg.Login.Timeout, jobs: make(chan authJob, authCfg.Queue)}
	if s.cluster != nil {
		s.auth.claim = s.claimFor
	}
	for i := 0; i < authCfg.Workers; i++ {
		s.workers.Go(s.auth.run)
	}
	s.keepsMail = !backend.Anonymous || cfg.Mailbox.Anonymous
	s.throttle = loginThrottle(cfg.Login, opts)
	s.st.init()
	s.offline = newOfflineQueue(box, offlineShards, offlineDepth, cfg.Mailbox.QueueBytes,
		pageLimits{messages: cfg.Mailbox.PageMessages, bytes: cfg.Mailbox.PageBytes}, log)
	s.events = eventSink(opts)
	s.offline.events = s.events
	for i := 0; i < offlineShards; i++ {
		s.workers.Go(func() { s.offline.run(i) })
	}
	p, _ := box.(pruner)
	s.workers.Go(func() { s.janitor(p) })
	s.users = newUsers(s.offline)
	s.rooms = newRooms(cfg.Rooms, cfg.History, s.autoJoin, s.encode, opts...)
	s.resume = newResumes(cfg.Resume.TTL, cfg.Resume.MaxClosed)
	if s.cluster != nil {
		s.startCluster()
	}
	return s, nil
}

// Subprotocols lists the subprotocols /ws speaks, for the handshake.
func (s *Service) Subprotocols() []string { return subprotocols }

var subprotocols = []string{ProtocolJSON, ProtocolText}

// Open starts a session in the login phase, in the format the client
// asked for, and starts the login its URL carries (urllogin.go).
func (s *Service) Open(c *server.Conn) server.Session {
	sess := &session{svc: s, conn: c, login: &loginState{}}
	q := c.Query()
	var bad string
	sess.format, bad = requestFormat(c.Subprotocol(), q.Get("format"))
	sess.login.timer = time.AfterFunc(s.cfg.Login.Timeout, func() {
		if err := c.Notify(loginExpired{}); err != nil {
			c.Kick(CloseLoginTimeout, "login timeout")
		}
	})
	if bad != "" {
		c.SendText([]byte("unknown format " + quote(bad) + ": use format=text or format=json; continuing with the default"))
	}
	sess.urlLogin(c, q)
	return sess
}

// Close stops the pools. Call it after the server has shut down, so no
// session is left to use them.
func (s *Service) Close(ctx context.Context) error {
	close(s.stop)
	close(s.auth.jobs)
	s.offline.close()
	done := make(chan struct{})
	go func() {
		s.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("chat: pools still running: %w", ctx.Err())
	}
}

// throttleSweepEvery is how often idle login-throttle entries are dropped.
const throttleSweepEvery = time.Minute

// janitor drops expired mailbox messages (when p is not nil) every
// pruneEvery and idle login-throttle entries every throttleSweepEvery
// (the throttle also sweeps itself, for a bridge without chat), until
// Close.
func (s *Service) janitor(p pruner) {
	sweep := time.NewTicker(throttleSweepEvery)
	defer sweep.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-sweep.C:
			s.throttle.Sweep(now)
			s.resume.sweep(now)
		case now := <-prune.C:
			if p == nil {
				continue
			}
			if n, err := p.Prune(now); err != nil {
				s.log.Error("mailbox prune", zap.Error(err))
			} else if n > 0 {
				s.log.Info("mailbox prune", zap.Int("expired", n))
			}
		}
	}
}

// frame wraps an encoded JSON message in a text frame.
func (s *Service) frame(body []byte) []byte {
	return server.AppendTextFrame(make([]byte, 0, len(body)+10), body)
}

// idGen issues message ids: increasing, unique across restarts as long as
// the clock does not go back, and below 2^53 so JavaScript reads them
// exactly. An id is the Unix time in milliseconds times 1000 plus a
// counter; more than 1000 messages in a millisecond borrow from the next.
type idGen struct{ last atomic.Uint64 }

func (g *idGen) next(now time.Time) uint64 {
	floor := uint64(now.UnixMilli()) * 1000
	for {
		last := g.last.Load()
		id := max(last+1, floor)
		if g.last.CompareAndSwap(last, id) {
			return id
		}
	}
}
