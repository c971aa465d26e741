package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoServerImport enforces that the bench tools talk to servers only over
// the wire: nothing under bench/ nor cmd/chatbench, nor anything they
// import, is part of chatd's server, except the standard-library-only wire
// types of server/wire.
func TestNoServerImport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../...", "../../cmd/chatbench").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/chatd/chatd/server/wire" {
			continue
		}
		if pkg == "github.com/chatd/chatd/server" || strings.HasPrefix(pkg, "github.com/chatd/chatd/server/") {
			t.Errorf("bench imports %s; bench must reach the server only over the network", pkg)
		}
	}
}
