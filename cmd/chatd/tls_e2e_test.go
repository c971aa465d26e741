package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatd/chatd/server/testcert"
	"github.com/chatd/chatd/server/wstest"
)

// tlsTestConfig is testConfig with server.tls on, a certificate for
// 127.0.0.1 issued by a fresh CA; it returns the config and the CA.
func tlsTestConfig(t *testing.T, extra string) (string, *testcert.CA, testcert.Leaf) {
	t.Helper()
	ca := testcert.NewCA(t, "chatd e2e CA")
	leaf := ca.Server(t, "chatd e2e")
	certFile, keyFile := leaf.Files(t, t.TempDir())
	cfg := strings.Replace(testConfig, "server:\n", "server:\n  tls:\n    cert_file: \""+certFile+"\"\n    key_file: \""+keyFile+"\"\n", 1)
	return cfg + extra, ca, leaf
}

// TestTLSPageInChromium: the chat page over https://, in Chromium, which
// connects back with wss:// (the page picks the scheme from its own
// location); alice and bob log in and alice's lobby message reaches bob.
// Chromium trusts the test certificate through an SPKI pin
// (--ignore-certificate-errors-spki-list), not by ignoring every error.
func TestTLSPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chromium := requireChromium(t)
	cfg, _, leaf := tlsTestConfig(t, "")
	r := startRun(t, cfg)
	addr := r.logs.listenAddr(t)
	spki := sha256.Sum256(leaf.Cert.RawSubjectPublicKeyInfo)
	pin := chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:]))
	tabs := startBrowserWith(t, chromium, []chromedp.ExecAllocatorOption{pin}, "alice", "bob")
	alice, bob := tabs[0], tabs[1]
	alice.open("https://" + addr + "/")
	bob.open("https://" + addr + "/")
	if got := alice.eval(`location.protocol`); got != `"https:"` {
		t.Fatalf("page protocol %s", got)
	}
	alice.login("alice")
	bob.login("bob")
	alice.say("hello over wss")
	bob.waitFor("alice's lobby message over wss", `count({sender: 'alice', room: 'lobby', text: 'hello over wss'}) === 1`)
	alice.waitFor("alice's message acknowledged", `own('hello over wss').status === 'sent'`)
}

// TestTLSAPIAndMainListener: with server.tls on, the main listener serves
// wss:// and HTTPS, and the API (api.listen) serves HTTPS with the same
// certificate; plain HTTP to the main listener gets 400.
func TestTLSAPIAndMainListener(t *testing.T) {
	const key = "tls-api-key-0123456789"
	keyFile := writeFile(t, "api.key", key+"\n")
	cfg, ca, _ := tlsTestConfig(t, "")
	cfg = strings.Replace(cfg, "log:\n", "api:\n  listen: \"127.0.0.1:0\"\n  key_file: \""+keyFile+"\"\nlog:\n", 1)
	r := startRun(t, cfg)
	addr := r.logs.listenAddr(t)
	apiAddr, _ := r.logs.waitFor(t, "api listening", 10*time.Second)["addr"].(string)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	defer client.CloseIdleConnections()
	get := func(url, auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("https://"+apiAddr+"/api/online", "Bearer "+key); code != 200 {
		t.Fatalf("https API: %d %s", code, body)
	}
	if code, body := get("https://"+addr+"/healthz", ""); code != 200 || body != "ok\n" {
		t.Fatalf("https /healthz: %d %q", code, body)
	}
	if code, _ := get("https://"+addr+"/", ""); code != 200 {
		t.Fatalf("https chat page: %d", code)
	}
	if code, body := get("http://"+addr+"/healthz", ""); code != 400 {
		t.Fatalf("plain http to the TLS listener: %d %q", code, body)
	}
	c := wstest.Dial(t, "wss://"+addr+"/ws", wstest.WithTLS(&tls.Config{RootCAs: ca.Pool()}))
	c.SendJSON(t, map[string]any{"type": "login", "name": "carol"})
	var m map[string]any
	c.NextJSON(t, &m)
	if m["type"] != "login_ok" {
		t.Fatalf("login over wss: %v", m)
	}
	r.logs.noErrors(t)
}
