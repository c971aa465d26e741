package server_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestApplicationsStandOnTheTransport: the packages built on the server
// (chat, the bridge, the API) use its frame-neutral API only: none of them
// imports the WebSocket library, the actor runtime or the server's internal
// packages. (Their tests are clients, and may.)
func TestApplicationsStandOnTheTransport(t *testing.T) {
	forbidden := []string{"github.com/gobwas/ws", "github.com/chatd/chatd/actor", "github.com/chatd/chatd/server/internal/"}
	for _, dir := range []string{"chat", "bridge", "api"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbidden {
					if path == bad || strings.HasPrefix(path, bad+"/") || (strings.HasSuffix(bad, "/") && strings.HasPrefix(path, bad)) {
						t.Errorf("%s imports %s", name, path)
					}
				}
			}
		}
	}
}
