package chat_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testtool"
	"github.com/chatd/chatd/server/testcert"
)

// TestInteropTLS runs the full chat login over wss:// with both Python
// clients, each verifying chatd's certificate against the test CA:
// websocket-client (sslopt) logs alice and bob in and sends to the lobby;
// websockets (an ssl.SSLContext) logs them in and sends a private
// message.
func TestInteropTLS(t *testing.T) {
	cases := []struct{ module, pkg, script string }{
		{"websocket", "python3-websocket", "tls_websocket_client.py"},
		{"websockets", "python3-websockets", "tls_websockets.py"},
	}
	for _, tc := range cases {
		t.Run(tc.pkg, func(t *testing.T) {
			t.Parallel()
			testtool.RequirePythonModule(t, tc.module, tc.pkg)
			ca := testcert.NewCA(t, "chatd interop CA")
			dir := t.TempDir()
			certFile, keyFile := ca.Server(t, "chatd").Files(t, dir)
			caFile := filepath.Join(dir, "ca.pem")
			testcert.WriteFile(t, caFile, ca.PEM)
			e := start(t, options{server: func(c *server.Config) { c.TLS.CertFile, c.TLS.KeyFile = certFile, keyFile }})
			url := "wss://" + strings.TrimPrefix(e.ts.URL("/ws"), "ws://")
			out := testtool.RunPython(t, 60*time.Second, filepath.Join("testdata", "interop", tc.script), url, caFile)
			if got := testtool.CountLines(out, "ok: "); got != 3 || !strings.HasSuffix(out, "PASS\n") {
				t.Fatalf("output:\n%s", out)
			}
			t.Logf("%s", out)
		})
	}
}
