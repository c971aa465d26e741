package cluster

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: embedded servers
// and client connections must all be stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
