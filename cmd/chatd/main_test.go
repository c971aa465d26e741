package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that run leaves no goroutine behind: everything the server
// starts must stop in Shutdown, even after a failed start.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
