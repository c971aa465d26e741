package bridge_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/chatd/chatd/server/bridge"
	"github.com/chatd/chatd/server/internal/testtool"
)

// tutorial003Address is the address tutorial 003's page connects to; the
// test serves the page with chatd's /stdio in its place, nothing else
// changed.
const tutorial003Address = "ws://47.104.96.15:8088/"

// TestTutorial003Browser loads tutorial 003's page in Chromium against
// its program behind /stdio and clicks its connection test: the page sends
// 发送连接测试数据 and alerts its success message only when the answer is
// exactly S->C:C->S:发送连接测试数据. The page talks through alert(); the
// test accepts each dialog and records its text.
func TestTutorial003Browser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	browser := testtool.StartChromium(t, 60*time.Second)
	e := start(t, testConfig(bridge.Program{Path: "/stdio",
		Command: []string{python, "-u", testdata(t, "tutorial003.py")}}), nil, nil)
	html, err := os.ReadFile(testdata(t, "tutorial003.html"))
	if err != nil {
		t.Fatal(err)
	}
	served := strings.ReplaceAll(string(html), tutorial003Address, e.ts.URL("/stdio"))
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(served))
	}))
	t.Cleanup(pages.Close)

	ctx, cancel := chromedp.NewContext(browser)
	var (
		mu     sync.Mutex
		alerts []string
		wg     sync.WaitGroup
	)
	t.Cleanup(wg.Wait)
	t.Cleanup(cancel)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	wg.Go(func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			mu.Lock()
			alerts = append(alerts, ev.Message)
			mu.Unlock()
			wg.Go(func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			})
		}
	})
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			t.Fatalf("%s: %v (alerts %q)", what, err, alerts)
		}
	}
	do("load the page", chromedp.Navigate(pages.URL))
	do("click the connection test", chromedp.Click(chromedp.CSS("#ConnectTest a")))
	const success = "Web Socket 已连成功接上，发送数据正确返回"
	waitFor(t, 15*time.Second, "the page's success alert", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(alerts, success)
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(alerts, "Client send test data") {
		t.Errorf("alerts %q: the page did not report sending", alerts)
	}
}
