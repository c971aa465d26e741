package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestServerDependencies: the transport owns its config (server.Config) and
// imports nobody else's, so building package server pulls in no storage,
// no token or password library and no auth backend. Those belong to the
// packages that use them (chat, the mailbox, the backends), composed in
// cmd/chatd.
func TestServerDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-json=ImportPath", ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	forbidden := []string{
		"go.etcd.io/bbolt",
		"github.com/golang-jwt/jwt",
		"golang.org/x/crypto/bcrypt",
		"github.com/chatd/chatd/auth",
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	n := 0
	for {
		var p struct{ ImportPath string }
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		n++
		for _, bad := range forbidden {
			if p.ImportPath == bad || strings.HasPrefix(p.ImportPath, bad+"/") {
				t.Errorf("package server depends on %s", p.ImportPath)
			}
		}
	}
	if n < 10 {
		t.Fatalf("go list listed %d packages; want package server's dependencies", n)
	}
}
