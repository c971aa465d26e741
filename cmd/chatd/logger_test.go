package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	cases := []struct {
		name    string
		cfg     LogConfig
		written bool   // whether an Info line is written
		want    string // substring of the Info line
	}{
		{"json info", LogConfig{Level: "info", Format: "json"}, true, `"msg":"hello"`},
		{"console debug", LogConfig{Level: "debug", Format: "console"}, true, "INFO"},
		{"warn hides info", LogConfig{Level: "warn", Format: "json"}, false, ""},
		{"error hides info", LogConfig{Level: "error", Format: "console"}, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := newLogger(tc.cfg, &buf)
			if err != nil {
				t.Fatal(err)
			}
			log.Info("hello")
			got := buf.String()
			if !tc.written {
				if got != "" {
					t.Fatalf("level %s wrote %q", tc.cfg.Level, got)
				}
				return
			}
			if !strings.Contains(got, tc.want) || !strings.Contains(got, "hello") {
				t.Fatalf("got %q, want it to contain %q", got, tc.want)
			}
			if tc.cfg.Format == "json" && !json.Valid([]byte(got)) {
				t.Fatalf("not JSON: %q", got)
			}
		})
	}
}

func TestNewLoggerRejects(t *testing.T) {
	cases := []struct {
		name string
		cfg  LogConfig
		want string
	}{
		{"level", LogConfig{Level: "verbose", Format: "json"}, "log.level"},
		{"format", LogConfig{Level: "info", Format: "text"}, `log.format "text"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newLogger(tc.cfg, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
