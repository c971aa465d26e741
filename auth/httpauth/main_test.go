package httpauth_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: connections to the
// test services must close with the Authenticator and the services.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
