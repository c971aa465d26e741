package main

import (
	"os"
	"testing"
)

func TestProcSelf(t *testing.T) {
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Fatalf("cpuTime(os.Getpid()): %v", err)
	}
	s, err := sampleProc(os.Getpid())
	if err != nil || s.RSS <= 0 || s.Threads < 1 || s.FDs < 1 {
		t.Fatalf("sampleProc(os.Getpid()) = %+v, %v", s, err)
	}
}
