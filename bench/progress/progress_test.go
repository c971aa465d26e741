package progress

import (
	"os"
	"strings"
	"testing"

	"github.com/chatd/chatd/bench/scenario"
)

func TestDisplay(t *testing.T) {
	var b strings.Builder
	d := NewTo(&b, 10)
	d.Update("ready", scenario.Progress{Conns: 10, Opened: 10, Sent: 5, Errors: 1})
	d.Done()
	if !strings.Contains(b.String(), "conns") || !strings.Contains(b.String(), "errors 1") {
		t.Fatalf("display wrote %q", b.String())
	}
	// Not a terminal: nothing at all.
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	q := New(f, 10)
	q.Update("ready", scenario.Progress{Conns: 1})
	q.Done()
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Fatalf("quiet display wrote %d bytes", st.Size())
	}
}
