package main

import (
	"crypto/tls"
	"fmt"
	"testing"

	"github.com/chatd/chatd/server/testcert"
	"github.com/chatd/chatd/server/wstest"
)

// TestReloadTLSCertificate: a renewed certificate is served to new
// handshakes after SIGHUP, with the file poll set to an hour so that only
// the signal can have reread it; a wss connection opened before the
// reload still chats after it.
func TestReloadTLSCertificate(t *testing.T) {
	ca := testcert.NewCA(t, "chatd reload CA")
	dir := t.TempDir()
	first := ca.Server(t, "first")
	certFile, keyFile := first.Files(t, dir)
	tlsKeys := fmt.Sprintf("  tls:\n    cert_file: %q\n    key_file: %q\n    reload_interval: \"1h\"\n", certFile, keyFile)
	r := startReload(t, reloadConfig("info", tlsKeys, ""))
	addr := r.logs.listenAddr(t)
	trust := &tls.Config{RootCAs: ca.Pool()}

	served := func() string {
		t.Helper()
		conn, err := tls.Dial("tcp", addr, trust)
		if err != nil {
			t.Fatalf("tls dial: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := served(); got != "first" {
		t.Fatalf("served %q before the renewal, want first", got)
	}
	old := wstest.Dial(t, "wss://"+addr+"/echo", wstest.WithTLS(trust))

	second := ca.Server(t, "second")
	second.Files(t, dir)
	if got := served(); got != "first" {
		t.Fatalf("served %q before SIGHUP: the hour-long poll cannot have run", got)
	}
	if e := r.hup(t, "reload: file reread"); e["key"] != "server.tls" {
		t.Fatalf("reread %v, want server.tls", e["key"])
	}
	if got := served(); got != "second" {
		t.Fatalf("served %q after SIGHUP, want second", got)
	}
	old.SendText(t, "still here")
	if got := old.NextText(t); got != "still here" {
		t.Fatalf("echo on the connection opened before the reload: %q", got)
	}
}
