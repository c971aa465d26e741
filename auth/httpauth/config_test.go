package httpauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/auth/authtest"
	"github.com/chatd/chatd/auth/httpauth"
)

func TestDefault(t *testing.T) {
	cfg := httpauth.Default()
	if cfg != (httpauth.Config{Timeout: 5 * time.Second}) {
		t.Errorf("Default() = %+v", cfg)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "auth.http.url: required") {
		t.Errorf("Default().Validate() = %v; want the missing URL named", err)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  httpauth.Config
		want []string // one substring per expected line; nil means valid
	}{
		{"https", httpauth.Config{URL: "https://accounts.example.com/chat/login", Timeout: 5 * time.Second}, nil},
		{"http with port and query", httpauth.Config{URL: "http://127.0.0.1:9000/login?site=chat", Timeout: time.Millisecond}, nil},
		{"longest timeout", httpauth.Config{URL: "http://a", Timeout: time.Minute}, nil},
		{"no URL", httpauth.Config{Timeout: time.Second}, []string{"auth.http.url: required"}},
		{"relative URL", httpauth.Config{URL: "/login", Timeout: time.Second}, []string{`auth.http.url "/login": want an absolute http:// or https:// URL`}},
		{"ftp", httpauth.Config{URL: "ftp://a/b", Timeout: time.Second}, []string{"want an absolute http:// or https:// URL"}},
		{"no host", httpauth.Config{URL: "http:///login", Timeout: time.Second}, []string{"want an absolute"}},
		{"unparsable", httpauth.Config{URL: "http://a b/", Timeout: time.Second}, []string{"auth.http.url: parse"}},
		{"password redacted", httpauth.Config{URL: "ftp://u:hunter2@a/", Timeout: time.Second}, []string{"u:xxxxx@a"}},
		{"zero timeout", httpauth.Config{URL: "http://a"}, []string{`auth.http.timeout 0s: want a duration from "1ms" to "1m"`}},
		{"long timeout", httpauth.Config{URL: "http://a", Timeout: time.Hour}, []string{"auth.http.timeout 1h0m0s"}},
		{"both", httpauth.Config{}, []string{"auth.http.url", "auth.http.timeout"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			authtest.CheckValidation(t, err, c.want)
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Validate() = %q shows the URL's password", err)
			}
			if c.want == nil {
				return
			}
			if _, err := httpauth.New(c.cfg); err == nil {
				t.Error("New accepted a config that fails Validate")
			}
		})
	}
}
