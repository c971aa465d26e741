package testtool

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// RequireChromium returns the path of Debian's chromium (package chromium,
// which .ci/deps installs), after checking that `chromium --version` runs.
// When it does not, the test is skipped, or fails when CI=true (see
// RequireTool). cmd/chatd's TestChatPage has its own copy, because cmd/ may
// not import this internal package.
func RequireChromium(t testing.TB) string {
	t.Helper()
	RequireTool(t, "chromium", "chromium", "--version")
	path, err := exec.LookPath("chromium")
	if err != nil { // it ran a moment ago
		t.Fatalf("chromium: %v", err)
	}
	return path
}

// StartChromium starts headless Chromium (the new headless mode, no sandbox:
// tests run as root in containers) and returns the context of its first tab;
// chromedp.NewContext on it opens another tab of the same browser. The
// browser dies when timeout passes, and is stopped, with its goroutines, by
// the test's cleanup. It requires chromium as RequireChromium does.
func StartChromium(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	path := RequireChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
	)
	ctx, stop := context.WithTimeout(context.Background(), timeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser() // closes the browser and waits for it
		cancelAlloc()
		stop()
	})
	// The first action starts the browser; it must not carry a shorter
	// deadline of its own, which would end the browser with it.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browser
}
