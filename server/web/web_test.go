package web

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(Files(), name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFiles checks that the page is a few files at the top of the FS, and
// that every file index.html loads, and every module app.js imports, is
// among them.
func TestFiles(t *testing.T) {
	ents, err := fs.ReadDir(Files(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if !e.Type().IsRegular() {
			t.Errorf("%s: not a regular file; HandleFiles serves only the files at the top", e.Name())
		}
		names = append(names, e.Name())
	}
	for _, want := range []string{"index.html", "app.js", "style.css", "favicon.svg", "state.js", "conn.js", "messages.js", "rooms.js"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s missing; have %v", want, names)
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(read(t, "index.html"), -1) {
		if strings.Contains(m[1], ":") || strings.HasPrefix(m[1], "//") {
			t.Errorf("index.html loads %q from elsewhere; the CSP allows only this server", m[1])
			continue
		}
		if !slices.Contains(names, m[1]) {
			t.Errorf("index.html loads %q, which is not in Files()", m[1])
		}
	}
	imports := regexp.MustCompile(`(?m)^import [^;]* from "([^"]+)";$`)
	for _, js := range scripts(t) {
		for _, m := range imports.FindAllStringSubmatch(read(t, js), -1) {
			if name, ok := strings.CutPrefix(m[1], "./"); !ok || !slices.Contains(names, name) {
				t.Errorf("%s imports %q; want ./NAME of a file in Files()", js, m[1])
			}
		}
	}
}

// scripts returns the names of the page's JavaScript modules.
func scripts(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(Files(), "*.js")
	if err != nil || len(names) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	return names
}

// TestStrictCSP checks that the page needs nothing the server's
// Content-Security-Policy forbids: no inline script, style or event handler.
func TestStrictCSP(t *testing.T) {
	html := read(t, "index.html")
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`), // a script with inline content
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*$`),
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`javascript:`),
	} {
		if loc := bad.FindStringIndex(html); loc != nil {
			t.Errorf("index.html: %q matches %v; the CSP forbids it", html[loc[0]:min(loc[1]+20, len(html))], bad)
		}
	}
}

// TestTextOnly checks that the scripts never turn data into HTML: text from
// the network must go in with textContent.
func TestTextOnly(t *testing.T) {
	for _, name := range scripts(t) {
		js := read(t, name)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
			if strings.Contains(js, bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
}

// TestTestIDs checks that the automation hooks of issue 8 exist.
func TestTestIDs(t *testing.T) {
	html := read(t, "index.html")
	for _, id := range []string{"login-name", "login-password", "login-submit", "login-error", "status",
		"composer", "send", "messages", "room-list", "join-room", "user-list"} {
		if n := strings.Count(html, `data-testid="`+id+`"`); n != 1 {
			t.Errorf("data-testid=%q appears %d times in index.html, want 1", id, n)
		}
	}
	var js string
	for _, name := range scripts(t) {
		js += read(t, name)
	}
	for _, hook := range []string{`"data-testid": "message"`, `"data-sender"`, `"data-room"`, `"data-peer"`} {
		if !strings.Contains(js, hook) {
			t.Errorf("no script sets %s on messages", hook)
		}
	}
}

func TestDefault(t *testing.T) {
	if c := Default(); !c.Enabled || c.Validate() != nil {
		t.Errorf("Default() = %+v, Validate %v; want enabled and valid", c, c.Validate())
	}
}
