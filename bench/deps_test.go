package bench

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/chatd/chatd"

// wire is the one package of chatd's server that the tools may share.
const wire = module + "/server/wire"

// pkg is one package as go list -json describes it.
type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
	DepOnly    bool
}

// base is an import path without go list's test-variant suffix
// ("p [p.test]" is p compiled for p's tests).
func base(path string) string {
	p, _, _ := strings.Cut(path, " ")
	return p
}

// short is path without the variant suffix and the module prefix, for messages.
func short(path string) string { return strings.TrimPrefix(base(path), module+"/") }

// under reports whether path is dir or inside it.
func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// forbidden reports whether a tool may not import path.
func forbidden(path string) bool {
	if path == wire {
		return false
	}
	for _, dir := range []string{"/server", "/actor", "/auth"} {
		if under(path, module+dir) {
			return true
		}
	}
	return false
}

// listDeps runs go list -deps -test -json over patterns and returns every
// package, by import path (test variants included).
func listDeps(t *testing.T, patterns ...string) map[string]pkg {
	t.Helper()
	args := append([]string{"list", "-deps", "-test", "-json=ImportPath,Imports,Standard,DepOnly"}, patterns...)
	cmd := exec.Command("go", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// chain is the shortest import chain from one of roots to a package for
// which bad is true, or nil.
func chain(pkgs map[string]pkg, roots []string, bad func(string) bool) []string {
	from := map[string]string{}
	queue := slices.Clone(roots)
	for _, r := range roots {
		from[r] = ""
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if bad(base(p)) {
			var path []string
			for ; p != ""; p = from[p] {
				path = append(path, short(p))
			}
			slices.Reverse(path)
			return slices.Compact(path) // p and its test variant
		}
		for _, imp := range pkgs[p].Imports {
			if _, seen := from[imp]; !seen {
				from[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return nil
}

// roots are the packages (and test packages) the patterns named.
func roots(pkgs map[string]pkg) []string {
	var out []string
	for path, p := range pkgs {
		if !p.DepOnly && !strings.HasSuffix(path, ".test") { // not the generated test mains
			out = append(out, path)
		}
	}
	slices.Sort(out)
	return out
}

// TestImports: the tools talk to servers only over the wire (doc.go). Every
// package under bench/ and cmd/chatbench, with its tests, is checked
// together with everything it imports.
func TestImports(t *testing.T) {
	pkgs := listDeps(t, "./...", "../cmd/chatbench")
	all := roots(pkgs)
	for _, want := range []string{module + "/cmd/chatbench", module + "/bench/scenario", module + "/bench/baseline"} {
		if !slices.Contains(all, want) {
			t.Fatalf("go list did not name %s; the patterns are wrong", want)
		}
	}
	for _, root := range all {
		if c := chain(pkgs, []string{root}, forbidden); c != nil {
			t.Errorf("%s reaches chatd's internals: %s", short(root), strings.Join(c, " → "))
		}
	}
	if w, ok := pkgs[wire]; ok {
		for _, imp := range w.Imports {
			if !pkgs[imp].Standard {
				t.Errorf("%s imports %s; it must stay standard-library only", wire, imp)
			}
		}
	}

	// The baseline stands in for someone else's server: nothing of this
	// module but the wire types.
	var baseline []string
	for _, r := range all {
		if under(base(r), module+"/bench/baseline") {
			baseline = append(baseline, r)
		}
	}
	own := func(path string) bool {
		return under(path, module) && path != wire && !under(path, module+"/bench/baseline")
	}
	for _, root := range baseline {
		if c := chain(pkgs, []string{root}, own); c != nil {
			t.Errorf("%s imports more of chatd than server/wire: %s", short(root), strings.Join(c, " → "))
		}
	}
}

// TestChain checks the checker on a made-up graph, so a broken walk cannot
// pass every real tree.
func TestChain(t *testing.T) {
	pkgs := map[string]pkg{
		module + "/bench/a": {Imports: []string{"fmt", module + "/bench/b"}},
		module + "/bench/a [" + module + "/bench/a.test]": {Imports: []string{module + "/bench/b", "testing"}},
		module + "/bench/b":     {Imports: []string{wire, module + "/server/chat"}},
		module + "/server/chat": {Imports: []string{module + "/actor"}},
	}
	cases := []struct {
		name string
		root string
		want string
	}{
		{"indirect", module + "/bench/a", "bench/a → bench/b → server/chat"},
		{"test variant", module + "/bench/a [" + module + "/bench/a.test]", "bench/a → bench/b → server/chat"},
		{"clean", "fmt", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(chain(pkgs, []string{tc.root}, forbidden), " → ")
			if got != tc.want {
				t.Errorf("chain from %s = %q, want %q", tc.root, got, tc.want)
			}
		})
	}
	for path, want := range map[string]bool{
		wire: false, module + "/server": true, module + "/server/chat": true, module + "/serverless": false,
		module + "/actor": true, module + "/auth/jwt": true, module + "/bench/wsconn": false, "fmt": false,
	} {
		if got := forbidden(path); got != want {
			t.Errorf("forbidden(%s) = %v, want %v", path, got, want)
		}
	}
}
