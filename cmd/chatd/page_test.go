package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pageWait bounds each wait for the page to show something.
const pageWait = 10 * time.Second

// screenshotsEnv names a directory (relative to the module root) where
// TestChatPage saves docs screenshots of the page; unset, it saves none.
//
//	CHATD_SCREENSHOTS=docs go test -run TestChatPage ./cmd/chatd
const screenshotsEnv = "CHATD_SCREENSHOTS"

// TestChatPage drives the chat page served at / in Chromium, through the
// form and the data-testid hooks only: two tabs log in (one refused first,
// then retrying on the same connection), chat in the lobby, in private and
// in a room; HTML in a message stays text; then bob's network goes silent
// and dies while alice keeps talking, and his tab reconnects, resumes and
// shows every message exactly once.
func TestChatPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chromium := requireChromium(t)
	start := time.Now()
	r := startRun(t, testConfig)
	addr := r.logs.listenAddr(t)
	proxy := startCutProxy(t, addr) // bob's way to chatd

	alice, bob := startBrowser(t, chromium)
	alice.open("http://" + addr + "/")
	bob.open("http://" + proxy.Addr() + "/")

	// Login loop: a refused name shows the server's reason and the attempts
	// left; the retry on the same connection succeeds.
	alice.login("alice")
	bob.fill("login-name", "alice")
	bob.click(`[data-testid=login-submit]`)
	bob.waitFor("the refusal under the form",
		`text('[data-testid=login-error]').includes('name is already online') && /\d+ attempts? left/.test(text('[data-testid=login-error]'))`)
	bob.login("bob")

	// The lobby.
	alice.say("hi bob, welcome to chatd")
	bob.waitFor("alice's lobby message", `count({sender: 'alice', room: 'lobby', text: 'hi bob, welcome to chatd'}) === 1`)
	alice.waitFor("alice's message acknowledged", `own('hi bob, welcome to chatd').status === 'sent'`)
	const html = `<img src=x onerror="window.injected=1">`
	alice.say(html)
	bob.waitFor("the HTML message, as text", `count({sender: 'alice', room: 'lobby', text: `+jsString(html)+`}) === 1`)
	if n := bob.eval(`document.querySelectorAll('[data-testid=messages] img').length + (window.injected ? 100 : 0)`); n != "0" {
		t.Errorf("HTML in a message became markup: %s", n)
	}

	// Private: bob clicks alice in the user list.
	bob.waitFor("alice in bob's user list", `!!document.querySelector('[data-testid=user-list] [data-user=alice] button')`)
	bob.click(`[data-testid=user-list] [data-user=alice] button`)
	bob.fill("composer", "psst, alice: lunch?")
	bob.click(`[data-testid=send]`)
	bob.waitFor("bob's private message delivered", `own('psst, alice: lunch?').status === 'delivered'`)
	alice.waitFor("an unread private conversation", `document.querySelector('[data-peer=bob][data-unread="1"]') !== null`)
	alice.click(`[data-peer=bob] button`)
	alice.waitFor("bob's private message", `count({sender: 'bob', peer: 'bob', text: 'psst, alice: lunch?'}) === 1`)
	alice.say("sure, 12:30")
	bob.waitFor("alice's private answer", `count({sender: 'alice', peer: 'alice', text: 'sure, 12:30'}) === 1`)

	// A room, joined by name.
	for _, p := range []*tab{alice, bob} {
		p.fill("join-room", "dev\r")
		p.waitFor("#dev joined", `!!document.querySelector('[data-testid=room-list] [data-room=dev]') && current() === 'r:dev'`)
	}
	alice.say("standup in 5 minutes")
	bob.waitFor("alice's message in #dev", `count({sender: 'alice', room: 'dev', text: 'standup in 5 minutes'}) === 1`)
	bob.waitFor("alice online in #dev", `document.querySelector('[data-testid=user-list] [data-user=alice][data-presence=online]') !== null`)
	bob.say("on my way")
	alice.waitFor("bob's message in #dev", `count({sender: 'bob', room: 'dev', text: 'on my way'}) === 1`)

	// Bob's network goes silent: chatd keeps writing to his old connection,
	// which drops every byte, while alice talks in both rooms. Then his side
	// dies; chatd still holds his old session.
	bob.eval(`(window.states = [], new MutationObserver(() => states.push(state())).observe(
		document.querySelector('[data-testid=status]'), {attributes: true}), 0)`)
	if n := proxy.blackhole(); n == 0 {
		t.Fatal("bob has no connection through the proxy")
	}
	alice.say("did everyone see the build?")
	alice.waitFor("alice's message acknowledged", `own('did everyone see the build?').status === 'sent'`)
	alice.click(`[data-testid=room-list] [data-room=lobby] button`)
	alice.say("lunch at 12:30, all welcome")
	alice.waitFor("alice's message acknowledged", `own('lunch at 12:30, all welcome').status === 'sent'`)
	proxy.hangUp()
	bob.waitFor("bob's tab to reconnect and log in", `states.includes('closed') && states.includes('connecting') && state() === 'open' &&
		document.getElementById('chat-view').hidden === false && text('#me') === 'bob'`)

	// Everything sent meanwhile arrives, and nothing twice: in #dev (bob's
	// current room) and in the lobby.
	bob.waitFor("the #dev message sent during the drop", `count({sender: 'alice', room: 'dev', text: 'did everyone see the build?'}) === 1`)
	bob.waitFor("an unread lobby", `document.querySelector('[data-testid=room-list] [data-room=lobby][data-unread="1"]') !== null`)
	bob.noDuplicates()
	bob.click(`[data-testid=room-list] [data-room=lobby] button`)
	bob.waitFor("the lobby message sent during the drop", `count({sender: 'alice', room: 'lobby', text: 'lunch at 12:30, all welcome'}) === 1`)
	bob.waitFor("the earlier lobby messages, once each", `count({sender: 'alice', room: 'lobby', text: 'hi bob, welcome to chatd'}) === 1`)
	bob.noDuplicates()

	// The resumed session works both ways.
	bob.say("back, sorry: my train went into a tunnel")
	alice.waitFor("bob's message after the reconnect", `count({sender: 'bob', room: 'lobby', text: 'back, sorry: my train went into a tunnel'}) === 1`)
	for _, p := range []*tab{alice, bob} {
		if shown := p.eval(`document.getElementById('notice').hidden ? '' : text('#notice-text')`); shown != `""` {
			t.Errorf("%s's page shows an error: %s", p.name, shown)
		}
	}

	if dir := os.Getenv(screenshotsEnv); dir != "" {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(moduleRoot(t), dir)
		}
		// Something unread in #dev and in private, for the picture.
		alice.click(`[data-testid=room-list] [data-room=dev] button`)
		alice.say("the build is green again")
		alice.click(`[data-peer=bob] button`)
		alice.say("no worries, see you at lunch")
		bob.waitFor("the unread badges", `document.querySelector('[data-testid=room-list] [data-room=dev][data-unread="1"]') &&
			document.querySelector('[data-peer=alice][data-unread="1"]')`)
		bob.eval(`document.querySelector('[data-testid=composer]').value = ''`)
		bob.screenshot(filepath.Join(dir, "page-desktop.png"), 1280, 800, false)
		bob.screenshot(filepath.Join(dir, "page-phone.png"), 390, 844, true)
	}
	t.Logf("page scenario took %v", time.Since(start).Round(time.Millisecond))
}

// pageHelpers are the functions the checks may use. The checks read the
// page only through its data-testid hooks (and data-* attributes on them),
// not its layout. withHelpers scopes them to one evaluation, so that they
// cannot clash with the page's own names.
const pageHelpers = `
const text = (sel) => (document.querySelector(sel) || {}).textContent || '';
const state = () => document.querySelector('[data-testid=status]').dataset.state;
const msgs = () => [...document.querySelectorAll('[data-testid=messages] [data-testid=message]')].map((m) => ({
  sender: m.dataset.sender, room: m.dataset.room, peer: m.dataset.peer, seq: m.dataset.seq,
  status: m.dataset.status || '', text: m.querySelector('.text').textContent}));
const count = (want) => msgs().filter((m) => Object.keys(want).every((k) => m[k] === want[k])).length;
const own = (t) => msgs().reverse().find((m) => m.text === t && m.sender === text('#me')) || {};
const current = () => {
  const c = document.querySelector('[data-testid=room-list] .current, #peer-list .current');
  return c ? (c.dataset.room ? 'r:' + c.dataset.room : 'p:' + c.dataset.peer) : '';
};
`

// withHelpers wraps the JavaScript expression expr so it runs with
// pageHelpers in scope.
func withHelpers(expr string) string {
	return "(() => {" + pageHelpers + "return (" + expr + ");\n})()"
}

// requireChromium returns the path of Debian's chromium (.ci/deps installs
// it). When it is missing or does not run, the test is skipped, or fails
// when CI=true, like server/internal/testtool.RequireTool (which cmd/ may
// not import).
func requireChromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var out []byte
		if out, err = exec.CommandContext(ctx, path, "--version").CombinedOutput(); err != nil {
			err = fmt.Errorf("%s --version: %v: %s", path, err, bytes.TrimSpace(out))
		}
	}
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("chromium is not usable (%v); install it with `make deps` or, as root, "+
		"`apt-get install -y --no-install-recommends chromium`", err)
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("%s [CI=true: missing tools fail instead of skipping]", msg)
	}
	t.Skip(msg)
	return ""
}

// tab is one browser tab showing the page.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
}

// startBrowser starts headless Chromium with two tabs. The browser is
// stopped by the test's cleanup, and dies with the test's deadline.
func startBrowser(t *testing.T, path string) (first, second *tab) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox, // root in a container
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 800),
	)
	ctx, stop := context.WithTimeout(context.Background(), 90*time.Second)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	c1, cancel1 := chromedp.NewContext(alloc)
	c2, cancel2 := chromedp.NewContext(c1) // a second tab of the same browser
	t.Cleanup(func() {
		cancel2()
		cancel1()
		cancelAlloc()
		stop()
	})
	first, second = &tab{t: t, name: "alice", ctx: c1}, &tab{t: t, name: "bob", ctx: c2}
	// The first Run starts the browser (or the tab) and must not have a
	// deadline of its own.
	for _, p := range []*tab{first, second} {
		if err := chromedp.Do(p.ctx); err != nil {
			t.Fatalf("start chromium: %v", err)
		}
	}
	return first, second
}

// do runs actions with a deadline.
func (p *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %s: %v\n%s", p.name, what, err, p.dump())
	}
}

func (p *tab) open(url string) {
	p.t.Helper()
	p.do("open "+url, chromedp.Navigate(url))
	p.waitFor("the connection to open", `state() === 'open'`)
}

// fill replaces the value of the input with data-testid id by typing text
// (a trailing "\r" presses Enter).
func (p *tab) fill(id, text string) {
	p.t.Helper()
	sel := `[data-testid=` + id + `]`
	clear := chromedp.Evaluate[chromedp.Void](`document.querySelector('` + sel + `').value = ''`)
	p.do("type into "+id, clear, chromedp.SendKeys(chromedp.CSS(sel), text))
}

func (p *tab) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// login logs in through the form and waits for the chat.
func (p *tab) login(name string) {
	p.t.Helper()
	p.fill("login-name", name)
	p.click(`[data-testid=login-submit]`)
	p.waitFor("logged in as "+name, `document.getElementById('chat-view').hidden === false && text('#me') === `+jsString(name)+
		` && !!document.querySelector('[data-testid=room-list] [data-room=lobby]')`)
}

// say sends text to the current conversation with Enter.
func (p *tab) say(text string) {
	p.t.Helper()
	p.fill("composer", text+"\r")
}

// eval evaluates expr (with pageHelpers) and returns its JSON.
func (p *tab) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageWait)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](withHelpers(expr)))
	if err != nil {
		p.t.Fatalf("%s: eval %s: %v", p.name, expr, err)
	}
	return string(b)
}

// waitFor polls the JavaScript condition cond (with pageHelpers) until it
// holds, failing the test after pageWait.
func (p *tab) waitFor(what, cond string) {
	p.t.Helper()
	deadline := time.Now().Add(pageWait)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, pageWait)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](withHelpers("!!("+cond+")")))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: waiting for %s (%s): %v\n%s", p.name, what, cond, err, p.dump())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// noDuplicates checks that the visible conversation shows no message twice.
func (p *tab) noDuplicates() {
	p.t.Helper()
	dups := p.eval(`(() => { const seen = {}; return msgs().map((m) => JSON.stringify([m.sender, m.room, m.peer, m.text])).filter((k) => seen[k] ? true : (seen[k] = true, false)); })()`)
	if dups != "[]" {
		p.t.Errorf("%s: messages shown twice: %s\n%s", p.name, dups, p.dump())
	}
}

// dump describes what the tab shows, for failures.
func (p *tab) dump() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](withHelpers(`({status: state() + text('[data-testid=status] + span'),
		me: text('#me'), loginError: text('[data-testid=login-error]'), notice: text('#notice-text'), current: current(),
		rooms: text('[data-testid=room-list]'), users: text('[data-testid=user-list]'), messages: msgs()})`)))
	if err != nil {
		return fmt.Sprintf("(cannot read the page: %v)", err)
	}
	var v any
	_ = json.Unmarshal(b, &v)
	out, _ := json.MarshalIndent(v, "", "  ")
	return p.name + "'s page: " + string(out)
}

// screenshot saves a PNG of the tab at width x height.
func (p *tab) screenshot(path string, width, height int64, mobile bool) {
	p.t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	ctx, cancel := context.WithTimeout(p.ctx, pageWait)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, opts...), chromedp.Sleep(300*time.Millisecond)); err != nil {
		p.t.Fatalf("%s: viewport: %v", p.name, err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("%s: screenshot: %v", p.name, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("wrote %s (%d bytes)", path, len(png))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return strings.ReplaceAll(string(b), "'", `\u0027`)
}
