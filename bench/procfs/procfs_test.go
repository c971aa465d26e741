package procfs

import (
	"os"
	"strings"
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

func TestReadSum(t *testing.T) {
	self, parent := os.Getpid(), os.Getppid() // the parent: go test, alive throughout
	if _, err := Read(parent); err != nil {
		t.Skipf("parent process not readable: %v", err)
	}
	a, err := Read(self)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSum([]int{self, parent})
	if err != nil {
		t.Fatal(err)
	}
	// This process holds still; the sum adds a whole process to it (a Go
	// binary: megabytes, several threads, at least stdin, stdout, stderr).
	if s.RSS <= a.RSS || s.FDs < a.FDs+3 || s.Threads <= a.Threads || s.CPU < a.CPU {
		t.Fatalf("sum %+v not above this process's %+v", s, a)
	}
	if _, err := ReadSum([]int{self, -1}); err == nil || !strings.Contains(err.Error(), "pid -1") {
		t.Fatalf("missing process: %v", err)
	}
}

func TestLoadAvg(t *testing.T) {
	l1, l5, err := LoadAvg()
	if err != nil || l1 < 0 || l5 < 0 {
		t.Fatalf("%v %v %v", l1, l5, err)
	}
}
