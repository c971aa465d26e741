package static_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/authtest"
	"github.com/chatd/chatd/auth/static"
)

func TestConformance(t *testing.T) {
	users := []string{"hlq", "alice", "Łukasz", "José", "李雷"}
	authtest.Run(t, authtest.Harness{
		New: func(t *testing.T) auth.Authenticator {
			a, err := static.New(static.Config{Users: users})
			if err != nil {
				t.Fatal(err)
			}
			return a
		},
		Users: users,
		Valid: func(_ *testing.T, name string) auth.Credentials { return auth.Credentials{Name: name} },
		Text:  func(_ *testing.T, name string) string { return name },
		BadLogins: func(*testing.T) []authtest.BadLogin {
			return []authtest.BadLogin{
				{Name: "case matters", Credentials: auth.Credentials{Name: "HLQ"}, Reason: auth.ReasonUnknownName},
				{Name: "prefix", Credentials: auth.Credentials{Name: "hl"}, Reason: auth.ReasonUnknownName},
				{Name: "trailing newline", Credentials: auth.Credentials{Name: "hlq\n"}, Reason: auth.ReasonUnknownName},
				{Name: "malformed name", Credentials: auth.Credentials{Name: "a b"}, Reason: auth.ReasonUnknownName},
				{Name: "zero width space", Credentials: auth.Credentials{Name: "hlq\u200b"}, Reason: auth.ReasonUnknownName},
				{Name: "right-to-left override", Credentials: auth.Credentials{Name: "\u202ehlq"}, Reason: auth.ReasonUnknownName},
			}
		},
		Unknown: "mallory",
	})
}

func TestDefaultIsValidAndEmpty(t *testing.T) {
	cfg := static.Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	a, err := static.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Authenticate(context.Background(), auth.Credentials{Name: "hlq"})
	if reason, _ := auth.IsRejection(err); reason != auth.ReasonUnknownName {
		t.Errorf("default config let hlq in or failed oddly: %v", err)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		users []string
		want  []string // substrings of the error, one per problem; nil means valid
	}{
		{"nil", nil, nil},
		{"ok", []string{"a", "b", "Łukasz"}, nil},
		{"empty name", []string{"a", ""}, []string{`auth.static.users[1] "": name is empty`}},
		{"space", []string{"a b"}, []string{`auth.static.users[0] "a b": name contains whitespace`}},
		{"colon", []string{"a:b"}, []string{`auth.static.users[0] "a:b": name contains ':'`}},
		{"too long", []string{strings.Repeat("x", 33)}, []string{"name is longer than 32 characters"}},
		{"duplicate", []string{"a", "b", "a"}, []string{`auth.static.users[2] "a": duplicate of auth.static.users[0]`}},
		{"duplicate in another form", []string{"José", "Jose\u0301"},
			[]string{"auth.static.users[1] \"Jose\u0301\": duplicate of auth.static.users[0] (the same name in another Unicode form)"}},
		{"full-width duplicate", []string{"alice", "ａｌｉｃｅ"},
			[]string{`auth.static.users[1] "ａｌｉｃｅ": duplicate of auth.static.users[0] (the same name in another Unicode form)`}},
		{"case is not a duplicate", []string{"alice", "Alice"}, nil},
		{"zero width space", []string{"ali\u200bce"}, []string{`auth.static.users[0] "ali\u200bce": name contains invisible or disallowed characters`}},
		{"every problem", []string{"a", "a", " "}, []string{"users[1]", "users[2]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := static.Config{Users: c.users}.Validate()
			authtest.CheckValidation(t, err, c.want)
			if c.want == nil {
				return
			}
			if _, err := static.New(static.Config{Users: c.users}); err == nil {
				t.Error("New accepted a config that fails Validate")
			}
		})
	}
}

// TestCanonicalNames shows that a name is matched and returned in its
// canonical form, whichever form the config file and the client used.
func TestCanonicalNames(t *testing.T) {
	a, err := static.New(static.Config{Users: []string{"Jose\u0301", "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"José": "José", "Jose\u0301": "José", "ａｌｉｃｅ": "alice"} {
		id, err := a.Authenticate(context.Background(), a.ParseText(name))
		if err != nil || id.Name != want {
			t.Errorf("Authenticate(%+q) = %+v, %v; want name %+q", name, id, err, want)
		}
		if ok, _ := a.Exists(context.Background(), name); !ok {
			t.Errorf("Exists(%+q) = false; want true", name)
		}
	}
}

func TestNewCopiesUsers(t *testing.T) {
	users := []string{"alice"}
	a, err := static.New(static.Config{Users: users})
	if err != nil {
		t.Fatal(err)
	}
	users[0] = "mallory"
	if ok, _ := a.Exists(context.Background(), "alice"); !ok {
		t.Error("changing the config slice after New changed the users")
	}
}

func Example() {
	a, err := static.New(static.Config{Users: []string{"hlq", "alice"}})
	if err != nil {
		panic(err)
	}
	for _, text := range []string{"hlq", "bob"} {
		id, err := a.Authenticate(context.Background(), a.ParseText(text))
		if reason, rejected := auth.IsRejection(err); rejected {
			fmt.Printf("%s: %s\n", text, reason)
			continue
		}
		fmt.Printf("%s: welcome %s\n", text, id.Name)
	}
	// Output:
	// hlq: welcome hlq
	// bob: name is not exist
}
