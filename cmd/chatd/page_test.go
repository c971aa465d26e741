package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/chatd/chatd/auth/passwords"
)

// pageWait bounds each wait for the page to show something.
const pageWait = 10 * time.Second

// screenshotsEnv names a directory (relative to the module root) where
// TestChatPage saves docs screenshots of the page; unset, it saves none.
//
//	CHATD_SCREENSHOTS=docs go test -run TestChatPage ./cmd/chatd
const screenshotsEnv = "CHATD_SCREENSHOTS"

// TestChatPage drives the chat page served at / in Chromium, through the
// form and the data-testid hooks only: tabs log in (one refused first, then
// retrying on the same connection), chat in the lobby, in private and in a
// room; HTML in a message stays text; bob's network goes silent and dies
// while alice keeps talking, and his tab reconnects, resumes and shows
// every message exactly once; carol logs out, shows as offline with a last
// seen time, and finds the message alice left her marked as offline.
func TestChatPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chromium := requireChromium(t)
	start := time.Now()
	// Offline mail for the anonymous backend, so a private message to
	// someone gone is stored and shown at their next login.
	r := startRun(t, strings.Replace(testConfig, "  mailbox:\n", "  mailbox:\n    anonymous: true\n", 1))
	addr := r.logs.listenAddr(t)
	proxy := startCutProxy(t, addr) // bob's way to chatd

	tabs := startBrowser(t, chromium, "alice", "bob", "carol")
	alice, bob, carol := tabs[0], tabs[1], tabs[2]
	alice.open("http://" + addr + "/")
	bob.open("http://" + proxy.Addr() + "/")
	carol.open("http://" + addr + "/")

	// Login loop: a refused name shows the server's reason and the attempts
	// left; the retry on the same connection succeeds.
	alice.login("alice")
	bob.watchStates()
	bob.fill("login-name", "alice")
	bob.click(`[data-testid=login-submit]`)
	bob.waitFor("the refusal under the form",
		`text('[data-testid=login-error]').includes('name is already online') && /\d+ attempts? left/.test(text('[data-testid=login-error]'))`)
	bob.login("bob")
	if states := bob.eval(`states.filter((s) => s !== 'open')`); states != "[]" {
		t.Errorf("bob's connection was not open throughout the login loop: %s", states)
	}
	carol.login("carol")

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
	for _, p := range []*tab{alice, bob, carol} {
		p.fill("join-room", "dev\r")
		p.waitFor("#dev joined", `!!document.querySelector('[data-testid=room-list] [data-room=dev]') && current() === 'r:dev'`)
	}
	// A refused request shows the server's error.
	alice.fill("join-room", "not a room!\r")
	alice.waitFor("the server's error", `document.getElementById('notice').hidden === false &&
		text('#notice-text').startsWith('Cannot join not a room!: ') && text('#notice-text').length > 'Cannot join not a room!: '.length`)
	alice.click(`#notice-close`)
	alice.say("standup in 5 minutes")
	bob.waitFor("alice's message in #dev", `count({sender: 'alice', room: 'dev', text: 'standup in 5 minutes'}) === 1`)
	bob.waitFor("alice online in #dev", `document.querySelector('[data-testid=user-list] [data-user=alice][data-presence=online]') !== null`)
	bob.say("on my way")
	alice.waitFor("bob's message in #dev", `count({sender: 'bob', room: 'dev', text: 'on my way'}) === 1`)

	// Bob's network goes silent: chatd keeps writing to his old connection,
	// which drops every byte, while alice talks in both rooms. Then his side
	// dies; chatd still holds his old session.
	bob.watchStates()
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
	// Carol logs out: alice sees her offline in #dev, with a last-seen
	// time, and writes to her; carol gets it at her next login, marked as
	// an offline message.
	alice.click(`[data-testid=room-list] [data-room=dev] button`)
	alice.waitFor("carol online in #dev", `document.querySelector('[data-testid=user-list] [data-user=carol][data-presence=online]') !== null`)
	carol.click(`#logout`)
	carol.waitFor("the login form again", `document.getElementById('login-view').hidden === false && state() === 'open'`)
	alice.waitFor("carol offline, last seen", `document.querySelector('[data-testid=user-list] [data-user=carol][data-presence=offline]') !== null &&
		text('[data-testid=user-list] [data-user=carol]').includes('last seen')`)
	alice.click(`[data-testid=user-list] [data-user=carol] button`)
	alice.say("call me when you are back")
	alice.waitFor("the message stored for carol", `own('call me when you are back').status === 'stored'`)
	carol.login("carol")
	carol.waitFor("a private conversation with alice", `document.querySelector('[data-peer=alice][data-unread="1"]') !== null`)
	carol.click(`[data-peer=alice] button`)
	carol.waitFor("alice's message, marked offline", `document.querySelector('[data-testid=message][data-sender=alice][data-peer=alice][data-offline=true]') !== null`)

	for _, p := range tabs {
		if shown := p.eval(`document.getElementById('notice').hidden ? '' : text('#notice-text')`); shown != `""` {
			t.Errorf("%s's page shows an error: %s", p.name, shown)
		}
	}

	dir := os.Getenv(screenshotsEnv)
	if dir != "" {
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
		bob.viewport(1280, 800, false)
		bob.screenshot(filepath.Join(dir, "page-desktop.png"))
	}

	// Phone width: the conversation and the composer fit, nothing scrolls
	// sideways, and the rooms open in a drawer.
	bob.viewport(390, 844, true)
	bob.waitFor("the conversation fitting a phone", `fits('[data-testid=messages]') && fits('[data-testid=composer]') && fits('[data-testid=send]') &&
		fits('[data-testid=status]') && document.documentElement.scrollWidth <= innerWidth`)
	if dir != "" {
		bob.screenshot(filepath.Join(dir, "page-phone.png"))
	}
	bob.click(`#toggle-side`)
	bob.waitFor("the rooms drawer", `fits('[data-testid=room-list]') && fits('[data-testid=join-room]')`)
	bob.click(`[data-testid=room-list] [data-room=dev] button`)
	bob.waitFor("#dev, drawer closed", `current() === 'r:dev' && !fits('[data-testid=room-list]') && fits('[data-testid=composer]')`)

	t.Logf("page scenario took %v", time.Since(start).Round(time.Millisecond))
}

// TestChatPageLogin logs in through the form with the backends that need
// more than a name: a wrong password shows the server's reason and the
// attempts left, and the right one, which looks like nothing but a
// password (it has dots), logs in; a JWT typed in the password field with
// no name logs in as its subject.
func TestChatPageLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chromium := requireChromium(t)
	file := filepath.Join(t.TempDir(), "passwords")
	if err := passwords.SetPassword(file, "alice", "correct.horse.battery", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	withPasswords := startRun(t, testConfig+"auth:\n  backend: passwords\n  passwords:\n    file: \""+file+"\"\n")
	withJWT := startRun(t, testConfig+"auth:\n  backend: jwt\n  jwt:\n    secret: \""+biJWTSecret+"\"\n")
	tabs := startBrowser(t, chromium, "alice", "dave")
	alice, dave := tabs[0], tabs[1]
	alice.open("http://" + withPasswords.logs.listenAddr(t) + "/")
	dave.open("http://" + withJWT.logs.listenAddr(t) + "/")

	alice.fill("login-name", "alice")
	alice.fill("login-password", "battery.horse.correct")
	alice.click(`[data-testid=login-submit]`)
	alice.waitFor("the refusal", `text('[data-testid=login-error]') === 'wrong password (4 attempts left)'`)
	alice.fill("login-password", "correct.horse.battery")
	alice.login("alice")

	token := biToken(t, map[string]any{"sub": "dave", "exp": time.Now().Add(time.Hour).Unix()})
	dave.fill("login-password", token)
	dave.click(`[data-testid=login-submit]`)
	dave.waitFor("logged in as the token's subject", `text('#me') === 'dave' && document.getElementById('chat-view').hidden === false`)
}

// TestWebEnabled checks the wiring of web.enabled: the page is served at /
// by default, and / is a 404 when it is off.
func TestWebEnabled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		want   int
	}{
		{"default", testConfig, http.StatusOK},
		{"off", testConfig + "web:\n  enabled: false\n", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startRun(t, tc.config)
			resp, err := http.Get("http://" + r.logs.listenAddr(t) + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("GET /: %s, want %d", resp.Status, tc.want)
			}
			if page := bytes.Contains(body, []byte(`data-testid="login-name"`)); page != (tc.want == http.StatusOK) {
				t.Errorf("GET /: the page served is %v, want %v; body:\n%s", page, tc.want == http.StatusOK, body)
			}
		})
	}
}

// TestChatPageRestart restarts chatd under an open page: the page
// reconnects by itself (its resume token is unknown to the new process, so
// it logs in again), says that the room's history was lost, and shows the
// new server's messages, whose seqs start again at 1, instead of taking
// them for ones it already has.
func TestChatPageRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chromium := requireChromium(t)
	first := startRun(t, testConfig)
	proxy := startCutProxy(t, first.logs.listenAddr(t)) // the address the pages know
	tabs := startBrowser(t, chromium, "alice", "bob")
	alice, bob := tabs[0], tabs[1]
	for _, p := range tabs {
		p.open("http://" + proxy.Addr() + "/")
		p.login(p.name)
	}
	for _, text := range []string{"one", "two", "three"} {
		alice.say(text)
		bob.waitFor("alice's "+text, `count({sender: 'alice', room: 'lobby', text: `+jsString(text)+`}) === 1`)
	}

	second := startRun(t, testConfig)
	proxy.retarget(second.logs.listenAddr(t))
	first.signals <- os.Interrupt // close 1001 to every page
	if status := first.wait(t, 10*time.Second); status != 0 {
		t.Fatalf("first chatd exited %d", status)
	}
	for _, p := range tabs {
		p.waitFor("the reconnect to the new server", `state() === 'open' && text('[data-testid=status] + span').includes('reconnected')`)
	}
	bob.waitFor("the note that history was lost", `text('[data-testid=messages]').includes('lost this room')`)
	alice.say("after the restart")
	bob.waitFor("the new server's first message", `count({sender: 'alice', room: 'lobby', text: 'after the restart', seq: '1'}) === 1`)
	bob.noDuplicates()
	bob.waitFor("the old messages, still there", `count({sender: 'alice', room: 'lobby', text: 'one'}) === 1`)
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
const fits = (sel) => {
  const e = document.querySelector(sel);
  const r = e ? e.getBoundingClientRect() : {width: 0};
  return r.width > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight;
};
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

// startBrowser starts headless Chromium with one tab per name. The browser
// is stopped by the test's cleanup, and dies with the test's deadline.
func startBrowser(t *testing.T, path string, names ...string) []*tab {
	t.Helper()
	return startBrowserWith(t, path, nil, names...)
}

// startBrowserWith is startBrowser with extra command-line options (the
// TLS tests' certificate pin).
func startBrowserWith(t *testing.T, path string, extra []chromedp.ExecAllocatorOption, names ...string) []*tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox, // root in a container
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 800),
	)
	opts = append(opts, extra...)
	ctx, stop := context.WithTimeout(context.Background(), 90*time.Second)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	first, cancelFirst := chromedp.NewContext(alloc) // starts the browser
	cancels := []context.CancelFunc{stop, cancelAlloc, cancelFirst}
	t.Cleanup(func() {
		for i := len(cancels) - 1; i >= 0; i-- {
			cancels[i]()
		}
	})
	var tabs []*tab
	for i, name := range names {
		c := first
		if i > 0 {
			var cancel context.CancelFunc
			c, cancel = chromedp.NewContext(first) // another tab of the same browser
			cancels = append(cancels, cancel)
		}
		// The first Run starts the browser (or the tab) and must not
		// have a deadline of its own.
		if err := chromedp.Do(c); err != nil {
			t.Fatalf("start chromium: %v", err)
		}
		tabs = append(tabs, &tab{t: t, name: name, ctx: c})
	}
	return tabs
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

// watchStates starts recording, in window.states, every connection state
// the status shows from now on.
func (p *tab) watchStates() {
	p.t.Helper()
	p.eval(`(window.states = [], window.statesObserver && statesObserver.disconnect(),
		window.statesObserver = new MutationObserver(() => states.push(state())),
		statesObserver.observe(document.querySelector('[data-testid=status]'), {attributes: true}), 0)`)
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

// viewport makes the tab width x height CSS pixels, as a phone when mobile.
func (p *tab) viewport(width, height int64, mobile bool) {
	p.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	p.do("set the viewport", chromedp.EmulateViewport(width, height, opts...))
}

// screenshot saves a PNG of what the tab shows.
func (p *tab) screenshot(path string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageWait)
	defer cancel()
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
