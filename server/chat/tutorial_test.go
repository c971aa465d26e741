package chat_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatd/chatd/server/internal/testtool"
)

// Tutorial 002's clients, unchanged but for their address: its group chat
// page and private chat in Chromium, and its private chat from Python. They
// never send a login frame (the address names the user), never send an
// "id", and print whatever arrives.

// TestTutorial002PrivatePython runs tutorial 002's private chat with
// websocket-client (testdata/tutorial002/private_chat.py): users named by
// /ws?name=N and /ws/N send {"sender", "receiver", "data"} and read what
// arrives as JSON, or, with format=text, as lines; they get no "sent", and
// a spoofed sender gets an error.
func TestTutorial002PrivatePython(t *testing.T) {
	testtool.RequirePythonModule(t, "websocket", "python3-websocket")
	for _, mode := range []string{"json", "text"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := start(t, options{})
			out := testtool.RunPython(t, 30*time.Second, filepath.Join("testdata", "tutorial002", "private_chat.py"), e.ts.URL(""), mode)
			if got := testtool.CountLines(out, "ok: "); got != 5 || !strings.HasSuffix(out, "PASS\n") {
				t.Fatalf("want 5 \"ok:\" lines, then PASS; output:\n%s", out)
			}
		})
	}
}

// tutorialAddress is the address of tutorial 002's pages, which
// TestTutorial002Browser replaces with chatd's.
const tutorialAddress = "ws://127.0.0.1:9527/ws"

// pageWait bounds each wait for a page.
const pageWait = 10 * time.Second

// TestTutorial002Browser loads tutorial 002's pages in Chromium, served as
// written but for the WebSocket address, against chatd, with bob as a Go
// client beside them. The pages log every message they get with
// console.log(messageEvent.data); the test reads the console.
//   - The group chat page on /ws?name=alice&format=text logs True, then
//     readable lines ("[lobby] bob: hi"), and what it sends reaches bob.
//   - The same page on /ws?name=alice logs True, then JSON messages with
//     sender, room or receiver, and data.
//   - The private chat page on /ws/alice logs bob's {sender, receiver, data},
//     and its own JSON.stringify({sender, receiver, data}) reaches bob.
//
// None of them ever logs a "sent": the pages send no "id".
func TestTutorial002Browser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	start0 := time.Now()
	browser := testtool.StartChromium(t, 60*time.Second)
	pages := servePages(t)

	t.Run("group chat, text", func(t *testing.T) {
		e := start(t, options{})
		alice := openPage(t, browser, pages, "group_chat.html", e.ts.URL("/ws?name=alice&format=text"))
		alice.waitFor("the login answer", func(l string) bool { return l == "True" })
		bob := e.login(t, "bob")

		bob.send("hi")
		alice.waitFor("bob's lobby message", func(l string) bool { return l == "[lobby] bob: hi" })
		bob.sendJSON(map[string]any{"sender": "bob", "receiver": "alice", "data": "psst, 你好"})
		alice.waitFor("bob's private message", func(l string) bool { return l == "[private] bob: psst, 你好" })

		alice.send("hello from the page <b>!</b>")
		bob.expect(map[string]any{"type": "message", "sender": "alice", "room": "lobby", "data": "hello from the page <b>!</b>"})

		bob.send("bye")
		alice.waitFor("bob's last message", func(l string) bool { return l == "[lobby] bob: bye" })
		alice.expectLogged("True", "[lobby] bob: hi", "[private] bob: psst, 你好", "[lobby] bob: bye")
	})

	t.Run("group chat, JSON", func(t *testing.T) {
		e := start(t, options{})
		alice := openPage(t, browser, pages, "group_chat.html", e.ts.URL("/ws?name=alice"))
		alice.waitFor("the login answer", func(l string) bool { return l == "True" })
		bob := e.login(t, "bob")

		bob.send("hi")
		alice.waitFor("bob's lobby message", isMessage("bob", "room", "lobby", "hi"))
		bob.sendJSON(map[string]any{"sender": "bob", "receiver": "alice", "data": "psst"})
		alice.waitFor("bob's private message", isMessage("bob", "receiver", "alice", "psst"))

		alice.send("hello from the page")
		bob.expect(map[string]any{"type": "message", "sender": "alice", "room": "lobby", "data": "hello from the page"})

		bob.send("bye")
		alice.waitFor("bob's last message", isMessage("bob", "room", "lobby", "bye"))
		lines := alice.expectLogged("True", "", "", "")
		for _, l := range lines[1:] {
			if m := parseMessage(l); m == nil || m["type"] != "message" {
				t.Errorf("the page logged %q, want only messages after True", l)
			}
		}
	})

	t.Run("private chat", func(t *testing.T) {
		e := start(t, options{})
		alice := openPage(t, browser, pages, "private_chat.html", e.ts.URL("/ws"))
		alice.waitFor("the login answer", func(l string) bool { return l == "True" })
		bob, _ := e.dialPath(t, "/ws/bob")
		if got := bob.text(); got != "True" {
			t.Fatalf("bob's login answer %q, want True", got)
		}

		bob.sendJSON(map[string]any{"sender": "bob", "receiver": "alice", "data": "hi alice"})
		alice.waitFor("bob's private message", isMessage("bob", "receiver", "alice", "hi alice"))

		// The page's own JSON.stringify({sender, receiver, data}).
		alice.set("receiver", "bob")
		alice.send("hi bob, 你好")
		bob.expect(map[string]any{"type": "message", "sender": "alice", "receiver": "bob", "data": "hi bob, 你好"})

		bob.sendJSON(map[string]any{"sender": "bob", "receiver": "alice", "data": "bye"})
		alice.waitFor("bob's last message", isMessage("bob", "receiver", "alice", "bye"))
		alice.expectLogged("True", "", "")
		bob.quiet()
	})
	t.Logf("browser scenarios took %v", time.Since(start0).Round(time.Millisecond))
}

// servePages serves testdata/tutorial002's pages over HTTP, as
// /PAGE?ws=URL: the page with the tutorial's address replaced by URL.
func servePages(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" { // asked for by the browser, not the page
			w.WriteHeader(http.StatusNoContent)
			return
		}
		b, err := os.ReadFile(filepath.Join("testdata", "tutorial002", filepath.Base(r.URL.Path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		page := string(b)
		if n := strings.Count(page, tutorialAddress); n != 1 {
			http.Error(w, r.URL.Path+" has the tutorial's address "+tutorialAddress+" more or less than once", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(strings.Replace(page, tutorialAddress, r.URL.Query().Get("ws"), 1)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// page is a browser tab showing one of the tutorial's pages, with what it
// logged to the console.
type page struct {
	t   *testing.T
	ctx context.Context

	mu     sync.Mutex
	logged []string // console.log texts, in order; guarded by mu
	errors []string // exceptions and console errors; guarded by mu
}

// openPage opens name from pages in a new tab of browser, with its WebSocket
// address replaced by wsURL, and records its console until the test ends.
func openPage(t *testing.T, browser context.Context, pages *httptest.Server, name, wsURL string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	p := &page{t: t, ctx: ctx}
	// Subscribe before loading, so that nothing the page logs is missed.
	console := chromedp.Console(ctx)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(cancel) // runs first: ends the tab and the range below
	wg.Go(func() {
		for m, err := range console {
			if err != nil {
				return
			}
			p.mu.Lock()
			switch m.Type {
			case chromedp.ConsoleLog:
				p.logged = append(p.logged, m.Text)
			case chromedp.ConsoleError, chromedp.ConsoleException:
				p.errors = append(p.errors, m.String())
			}
			p.mu.Unlock()
		}
	})
	p.do("load "+name, chromedp.Navigate(pages.URL+"/"+name+"?ws="+url.QueryEscape(wsURL)))
	return p
}

// do runs actions with a deadline.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v\n%s", what, err, p.dump())
	}
}

// set puts text into the input with the given id.
func (p *page) set(id, text string) {
	p.t.Helper()
	p.do("fill #"+id, chromedp.SetValue(chromedp.ID(id), text))
}

// send types text into the content box and clicks the send button (发送).
func (p *page) send(text string) {
	p.t.Helper()
	p.set("content", text)
	p.do("click 发送", chromedp.Click(chromedp.CSS("button")))
}

// waitFor waits until the page has logged a line for which match holds,
// failing the test after pageWait or on a page error.
func (p *page) waitFor(what string, match func(line string) bool) {
	p.t.Helper()
	deadline := time.Now().Add(pageWait)
	for {
		p.mu.Lock()
		found := false
		for _, l := range p.logged {
			if match(l) {
				found = true
				break
			}
		}
		errs := len(p.errors)
		p.mu.Unlock()
		if found {
			return
		}
		if errs > 0 || time.Now().After(deadline) {
			p.t.Fatalf("waiting for the page to log %s\n%s", what, p.dump())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expectLogged waits a moment for anything still on its way, then checks
// that the page logged exactly len(want) lines, each equal to want's ("" for
// any), and no error, and returns the lines.
func (p *page) expectLogged(want ...string) []string {
	p.t.Helper()
	time.Sleep(200 * time.Millisecond)
	p.mu.Lock()
	got := append([]string(nil), p.logged...)
	errs := len(p.errors)
	p.mu.Unlock()
	ok := len(got) == len(want) && errs == 0
	for i := 0; ok && i < len(want); i++ {
		ok = want[i] == "" || got[i] == want[i]
	}
	for _, l := range got {
		if m := parseMessage(l); m != nil && m["type"] == "sent" {
			ok = false
		}
	}
	if !ok {
		p.t.Errorf("want the page to log %q (\"\" for any message), and no \"sent\"\n%s", want, p.dump())
	}
	return got
}

func (p *page) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "the page logged:\n  " + strings.Join(p.logged, "\n  ") + "\nerrors:\n  " + strings.Join(p.errors, "\n  ")
}

// parseMessage parses a logged line as a JSON object, or returns nil.
func parseMessage(line string) map[string]any {
	var m map[string]any
	if json.Unmarshal([]byte(line), &m) != nil {
		return nil
	}
	return m
}

// isMessage matches a logged JSON message from sender with field ("room" or
// "receiver") equal to value and the given data.
func isMessage(sender, field, value, data string) func(string) bool {
	return func(line string) bool {
		m := parseMessage(line)
		return m != nil && m["type"] == "message" && m["sender"] == sender && m[field] == value && m["data"] == data
	}
}
