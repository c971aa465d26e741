package anonymous_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/anonymous"
	"github.com/chatd/chatd/auth/authtest"
)

func TestConformance(t *testing.T) {
	authtest.Run(t, authtest.Harness{
		New:   func(*testing.T) auth.Authenticator { return anonymous.New() },
		Users: []string{"alice", "hlq", "Łukasz", "名字", "李雷", "José", strings.Repeat("n", auth.MaxNameLength)},
		Valid: func(_ *testing.T, name string) auth.Credentials {
			return auth.Credentials{Name: name, Password: "ignored"}
		},
		Text: func(_ *testing.T, name string) string { return name },
		BadLogins: func(*testing.T) []authtest.BadLogin {
			return []authtest.BadLogin{
				{Name: "empty name", Credentials: auth.Credentials{Password: "x"}, Reason: "name is empty"},
				{Name: "space", Credentials: auth.Credentials{Name: "a b"}, Reason: "name contains whitespace"},
				{Name: "colon", Credentials: auth.Credentials{Name: "a:b"}, Reason: "name contains ':'"},
				{Name: "too long", Credentials: auth.Credentials{Name: strings.Repeat("n", auth.MaxNameLength+1)},
					Reason: fmt.Sprintf("name is longer than %d characters", auth.MaxNameLength)},
				{Name: "zero width space", Credentials: auth.Credentials{Name: "ali\u200bce"}, Reason: invisible},
				{Name: "right-to-left override", Credentials: auth.Credentials{Name: "\u202eecila"}, Reason: invisible},
				{Name: "byte order mark", Credentials: auth.Credentials{Name: "\ufeffalice"}, Reason: invisible},
			}
		},
		MaxSessions: 1,
	})
}

// invisible is the reason for a name with invisible characters.
const invisible = "name contains invisible or disallowed characters"

func TestCanonicalIdentity(t *testing.T) {
	a := anonymous.New()
	cases := map[string]string{
		"Jose\u0301": "José", // decomposed accent
		"ａｌｉｃｅ":      "alice",
		"Alice":      "Alice", // case is kept
	}
	for name, want := range cases {
		id, err := a.Authenticate(context.Background(), a.ParseText(name))
		if err != nil || id.Name != want {
			t.Errorf("Authenticate(%+q) = %+v, %v; want name %+q", name, id, err, want)
		}
	}
}

func TestParseTextDoesNotTrim(t *testing.T) {
	a := anonymous.New()
	for _, text := range []string{"alice\n", " alice", "alice\r\n"} {
		c := a.ParseText(text)
		if c.Name != text {
			t.Errorf("ParseText(%q).Name = %q; want the text unchanged", text, c.Name)
		}
		_, err := a.Authenticate(context.Background(), c)
		if reason, ok := auth.IsRejection(err); !ok || reason != "name contains whitespace" {
			t.Errorf("Authenticate(ParseText(%q)) = %v; want rejection \"name contains whitespace\"", text, err)
		}
	}
}

func TestZeroValue(t *testing.T) {
	var a anonymous.Authenticator
	id, err := a.Authenticate(context.Background(), auth.Credentials{Name: "zero"})
	if err != nil || id != (auth.Identity{Name: "zero", MaxSessions: 1}) {
		t.Errorf("zero Authenticator: %+v, %v", id, err)
	}
}

func Example() {
	a := anonymous.New()
	id, err := a.Authenticate(context.Background(), a.ParseText("hlq"))
	fmt.Println(id.Name, id.MaxSessions, err)

	_, err = a.Authenticate(context.Background(), a.ParseText("h l q"))
	reason, rejected := auth.IsRejection(err)
	fmt.Println(rejected, reason)
	// Output:
	// hlq 1 <nil>
	// true name contains whitespace
}
