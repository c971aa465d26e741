package auth_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chatd/chatd/auth"
)

func TestCheckName(t *testing.T) {
	cases := []struct {
		name, reason string // reason "" means valid
	}{
		{"a", ""},
		{"hlq", ""},
		{"Łukasz", ""},
		{"名字", ""},
		{"a-b_c.d", ""},
		{strings.Repeat("é", auth.MaxNameLength), ""},
		{"", "name is empty"},
		{strings.Repeat("é", auth.MaxNameLength+1), fmt.Sprintf("name is longer than %d characters", auth.MaxNameLength)},
		{"\xff", "name is not valid UTF-8"},
		{"a b", "name contains whitespace"},
		{"a\u00a0b", "name contains whitespace"},
		{"a\tb", "name contains whitespace"},
		{"a\nb", "name contains whitespace"},
		{"a\x00b", "name contains a control character"},
		{"a\x7fb", "name contains a control character"},
		{"a:b", "name contains ':'"},
	}
	for _, c := range cases {
		err := auth.CheckName(c.name)
		reason, rejected := auth.IsRejection(err)
		switch {
		case c.reason == "" && err != nil:
			t.Errorf("CheckName(%q) = %v; want nil", c.name, err)
		case c.reason != "" && (!rejected || reason != c.reason):
			t.Errorf("CheckName(%q) = %v; want rejection %q", c.name, err, c.reason)
		}
		if len(reason) > auth.MaxReasonBytes {
			t.Errorf("CheckName(%q) reason is longer than MaxReasonBytes", c.name)
		}
	}
}

func TestRejection(t *testing.T) {
	err := auth.Reject(auth.ReasonWrongPassword)
	if got := err.Error(); got != "login rejected: wrong password" {
		t.Errorf("Error() = %q", got)
	}
	wrapped := fmt.Errorf("worker: %w", err)
	if reason, ok := auth.IsRejection(wrapped); !ok || reason != auth.ReasonWrongPassword {
		t.Errorf("IsRejection(wrapped) = %q, %v", reason, ok)
	}
	if reason, ok := auth.IsRejection(nil); ok || reason != "" {
		t.Errorf("IsRejection(nil) = %q, %v", reason, ok)
	}
	if _, ok := auth.IsRejection(fmt.Errorf("backend down")); ok {
		t.Error("IsRejection(plain error) = true")
	}
}
