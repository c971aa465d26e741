package procfs

import (
	"os"
	"testing"
)

func TestReadSelf(t *testing.T) {
	s, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSS <= 0 || s.Threads <= 0 || s.FDs <= 0 {
		t.Fatalf("implausible sample of this process: %+v", s)
	}
	if _, err := Read(-1); err == nil {
		t.Fatal("no error for a missing process")
	}
}
