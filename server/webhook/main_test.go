package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/chatd/chatd/server/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Answers a receiver gives.
const (
	answerOK   = iota
	answerFail // 500
	answerHang // no answer until the client gives up
)

// receiver is a webhook endpoint on 127.0.0.1:0 that records the events
// of the POSTs it answered 2xx. Safe for concurrent use.
type receiver struct {
	srv    *httptest.Server
	secret []byte
	// answer picks how the n-th request (from 1) is answered.
	answer func(n int) int

	mu       sync.Mutex // guards the fields below
	requests int
	badSig   int
	events   []wire.Event // in the order received, duplicates included
	batches  [][]uint64   // the ids of each accepted body
}

func newReceiver(t *testing.T, secret string, answer func(n int) int) *receiver {
	t.Helper()
	r := &receiver{secret: []byte(secret), answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.requests++
	n := r.requests
	if len(r.secret) > 0 && !Verify(r.secret, body, req.Header.Get(SignatureHeader)) {
		r.badSig++
	}
	r.mu.Unlock()
	switch r.answer(n) {
	case answerFail:
		http.Error(w, "failing", http.StatusInternalServerError)
		return
	case answerHang:
		select {
		case <-req.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	}
	var evs wire.Events
	if err := json.Unmarshal(body, &evs); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ids := make([]uint64, len(evs.Events))
	for i, e := range evs.Events {
		ids[i] = e.ID
	}
	r.mu.Lock()
	r.events = append(r.events, evs.Events...)
	r.batches = append(r.batches, ids)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// distinct returns the accepted events by id.
func (r *receiver) distinct() map[uint64]wire.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[uint64]wire.Event, len(r.events))
	for _, e := range r.events {
		m[e.ID] = e
	}
	return m
}

// waitEvents polls until the receiver accepted n distinct events.
func (r *receiver) waitEvents(t *testing.T, n int, timeout time.Duration) map[uint64]wire.Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := r.distinct()
		if len(m) >= n {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver has %d distinct events after %v, want %d", len(m), timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func always(a int) func(int) int { return func(int) int { return a } }

// newSink starts a Sink for cfg posting to r, closed at the end of the test.
func newSink(t *testing.T, r *receiver, cfg Config) *Sink {
	t.Helper()
	cfg.URL = r.srv.URL
	s, err := New(cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

func ev(i int) wire.Event {
	return wire.Event{Type: wire.EventJoin, User: "u" + string(rune('a'+i%26)), Room: "lobby", Conn: uint64(i)}
}

func newHTTPTestServer(r *receiver) *httptest.Server {
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r.srv
}
