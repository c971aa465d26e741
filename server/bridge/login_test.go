package bridge_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/throttle"
	"github.com/chatd/chatd/server/bridge"
	"github.com/chatd/chatd/server/wstest"
)

// passwordAuth accepts "NAME right" and rejects any other password, on
// its merits. Safe for concurrent use.
type passwordAuth struct{ asked atomic.Int64 }

func (*passwordAuth) ParseText(text string) auth.Credentials {
	name, pw, _ := strings.Cut(text, " ")
	return auth.Credentials{Name: name, Password: pw}
}

func (a *passwordAuth) Authenticate(_ context.Context, c auth.Credentials) (auth.Identity, error) {
	a.asked.Add(1)
	if c.Password != "right" {
		return auth.Identity{}, auth.Reject("wrong password")
	}
	return auth.Identity{Name: c.Name}, nil
}

const (
	reasonAccount = "too many failed logins for this name, try again later"
	reasonAddress = "too many logins from your address, try again later"
)

// TestLoginThrottleAccount: failed logins for one name from one address
// are counted across reconnects and across the bridge's paths (one
// per-connection, one shared); past account_failures the name is refused
// without asking the backend, even with the right password, while other
// names still log in.
func TestLoginThrottleAccount(t *testing.T) {
	cfg := throttle.Default()
	cfg.AccountFailures, cfg.AccountWindow = 3, time.Hour
	a := &passwordAuth{}
	e := start(t, testConfig(
		bridge.Program{Path: "/who", Login: true, Command: []string{"/bin/cat"}},
		bridge.Program{Path: "/room", Login: true, Mode: bridge.ModeShared, Command: []string{"/bin/cat"}},
	), a, nil, bridge.WithThrottle(throttle.New(cfg)))

	// Two failures, then the client reconnects (as it may after 4001).
	c := e.dial(t, "/who")
	for range 2 {
		c.Send(t, wstest.Text([]byte("alice guess")))
		expectText(t, c, "wrong password")
	}
	c.Close()
	// The third on another connection and path: still the backend's answer.
	c = e.dial(t, "/room")
	c.Send(t, wstest.Text([]byte("alice guess")))
	expectText(t, c, "wrong password")
	asked := a.asked.Load()
	c.Close()

	c = e.dial(t, "/who")
	for _, text := range []string{"alice guess", "alice right", "Alice right"} {
		c.Send(t, wstest.Text([]byte(text)))
		expectText(t, c, reasonAccount)
	}
	c.Send(t, wstest.Text([]byte(`{"type":"login","name":"alice","password":"guess","id":1}`)))
	if got := readText(t, c, 5*time.Second); !strings.Contains(got, `"error":"`+reasonAccount+`"`) {
		t.Fatalf("JSON answer %s", got)
	}
	if n := a.asked.Load(); n != asked {
		t.Fatalf("the backend was asked %d times about a throttled name", n-asked)
	}
	// Throttled answers are not the client's failures: not counted
	// against the connection's five, and other names are untouched.
	c.Send(t, wstest.Text([]byte("bob right")))
	expectText(t, c, "True")
}

// TestLoginThrottleAddress: attempts from one address beyond
// address_burst are refused, whatever the name.
func TestLoginThrottleAddress(t *testing.T) {
	cfg := throttle.Default()
	cfg.AddressRate, cfg.AddressBurst = 0.001, 2
	e := start(t, testConfig(bridge.Program{Path: "/who", Login: true, Command: []string{"/bin/cat"}}),
		&passwordAuth{}, nil, bridge.WithThrottle(throttle.New(cfg)))
	c := e.dial(t, "/who")
	c.Send(t, wstest.Text([]byte("alice guess")))
	expectText(t, c, "wrong password")
	c.Send(t, wstest.Text([]byte("bob guess")))
	expectText(t, c, "wrong password")
	c.Close()
	c = e.dial(t, "/who")
	c.Send(t, wstest.Text([]byte("carol right")))
	expectText(t, c, reasonAddress)
}
