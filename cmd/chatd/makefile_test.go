package main

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMakeFuzz runs the Makefile's fuzz loops, make fuzz and make
// test-fuzz (the end of make test), on small modules of its own: each must
// run every target, and fail when a target finds a failing input or a
// package with targets does not compile (make fuzz used to skip such a
// package silently).
func TestMakeFuzz(t *testing.T) {
	if testing.Short() {
		t.Skip("builds fuzz binaries; skipped with -short")
	}
	mk, err := exec.LookPath("make")
	if err != nil {
		msg := "make not found; .ci/run installs it"
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("%s [CI=true: missing tools fail instead of skipping]", msg)
		}
		t.Skip(msg)
	}
	makefile, err := filepath.Abs("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	const passing = `package p

import "testing"

func FuzzFirst(f *testing.F) {
	f.Add("a")
	f.Fuzz(func(t *testing.T, s string) {})
}

func FuzzSecond(f *testing.F) {
	f.Add(1)
	f.Fuzz(func(t *testing.T, n int) {})
}
`
	const crashing = `package p

import "testing"

func FuzzCrash(f *testing.F) {
	f.Add(0)
	f.Fuzz(func(t *testing.T, n int) {
		if n != 0 {
			t.Fatalf("crash on %d", n)
		}
	})
}
`
	const broken = "package p\n\nimport \"testing\"\n\nfunc FuzzBroken(f *testing.F) { undefined() }\n"

	cases := []struct {
		name     string
		files    map[string]string // path in the module: contents
		wantFail bool
		wantOut  []string // with TARGET for the make target
	}{
		{"passing targets run", map[string]string{"a/p_test.go": passing}, false,
			[]string{"TARGET: ./a FuzzFirst (200x", "TARGET: ./a FuzzSecond (200x"}},
		{"failing input fails", map[string]string{"a/p_test.go": crashing}, true,
			[]string{"TARGET: ./a FuzzCrash", "Failing input written to testdata/fuzz/FuzzCrash/"}},
		{"package that does not compile fails", map[string]string{"a/p_test.go": broken, "b/p_test.go": passing}, true,
			[]string{"undefined"}},
	}
	for _, target := range []string{"fuzz", "test-fuzz"} {
		for _, tc := range cases {
			t.Run(target+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				files := map[string]string{"go.mod": "module example.com/fuzzloop\n\ngo 1.22\n"}
				maps.Copy(files, tc.files)
				for name, body := range files {
					p := filepath.Join(dir, name)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				cmd := exec.Command(mk, "--no-print-directory", "-f", makefile, target, "FUZZTIME=200x", "TEST_FUZZTIME=200x")
				cmd.Dir = dir
				out, err := cmd.CombinedOutput()
				if failed := err != nil; failed != tc.wantFail {
					t.Errorf("make %s: %v, want failure: %v\n%s", target, err, tc.wantFail, out)
				}
				for _, w := range tc.wantOut {
					if w = strings.ReplaceAll(w, "TARGET", target); !strings.Contains(string(out), w) {
						t.Errorf("make %s output lacks %q:\n%s", target, w, out)
					}
				}
				if crashed, _ := filepath.Glob(filepath.Join(dir, "a/testdata/fuzz/FuzzCrash/*")); tc.wantFail && tc.files["a/p_test.go"] == crashing && len(crashed) != 1 {
					t.Errorf("make %s saved %d failing inputs under a/testdata/fuzz/FuzzCrash, want 1", target, len(crashed))
				}
			})
		}
	}
}
