package actor

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports enforces the package's dependency rule: actor is a
// chat-agnostic runtime built on the standard library and zap only, so it
// never imports chatd's server (or anything else outside those).
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports { // non-test imports only
		first, _, _ := strings.Cut(imp, "/")
		stdlib := !strings.Contains(first, ".")
		zap := imp == "go.uber.org/zap" || strings.HasPrefix(imp, "go.uber.org/zap/")
		if !stdlib && !zap {
			t.Errorf("actor imports %q; only the standard library and zap are allowed", imp)
		}
	}
}
