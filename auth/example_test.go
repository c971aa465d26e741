package auth_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/static"
)

// The chat layer's side of a login: parse the plain-text message, ask the
// backend, and tell a rejection (shown to the client) from a backend failure
// (logged; the client may try again later).
func Example() {
	var a auth.Authenticator
	a, err := static.New(static.Config{Users: []string{"hlq", "alice"}})
	if err != nil {
		panic(err)
	}
	for _, message := range []string{"hlq", "bob"} {
		id, err := a.Authenticate(context.Background(), a.ParseText(message))
		if reason, rejected := auth.IsRejection(err); rejected {
			fmt.Printf("%s: refused: %s\n", message, reason)
			continue
		} else if err != nil {
			fmt.Printf("%s: try again later\n", message)
			continue
		}
		fmt.Printf("%s: logged in as %s\n", message, id.Name)
	}
	if d, ok := a.(auth.Directory); ok {
		known, _ := d.Exists(context.Background(), "alice")
		fmt.Println("alice exists:", known)
	}
	// Output:
	// hlq: logged in as hlq
	// bob: refused: name is not exist
	// alice exists: true
}

func ExampleCheckName() {
	for _, name := range []string{"hlq", "", "h l q", "a:b", "Łukasz"} {
		if err := auth.CheckName(name); err != nil {
			reason, _ := auth.IsRejection(err)
			fmt.Printf("%q: %s\n", name, reason)
			continue
		}
		fmt.Printf("%q: ok\n", name)
	}
	// Output:
	// "hlq": ok
	// "": name is empty
	// "h l q": name contains whitespace
	// "a:b": name contains ':'
	// "Łukasz": ok
}

func ExampleCanonicalName() {
	for _, name := range []string{"José", "Jose\u0301", "ａｌｉｃｅ", "ali\u200bce", "\u202eecila"} {
		canonical, err := auth.CanonicalName(name)
		if reason, rejected := auth.IsRejection(err); rejected {
			fmt.Printf("%+q: %s\n", name, reason)
			continue
		}
		fmt.Printf("%+q: %+q\n", name, canonical)
	}
	// Output:
	// "Jos\u00e9": "Jos\u00e9"
	// "Jose\u0301": "Jos\u00e9"
	// "\uff41\uff4c\uff49\uff43\uff45": "alice"
	// "ali\u200bce": name contains invisible or disallowed characters
	// "\u202eecila": name contains invisible or disallowed characters
}

func ExampleNameKey() {
	online := map[string]string{auth.NameKey("alice"): "alice"} // key → name
	for _, name := range []string{"Alice", "ALICE", "bob"} {
		if holder, taken := online[auth.NameKey(name)]; taken && holder != name {
			fmt.Printf("%s: looks the same as %s, who is online\n", name, holder)
			continue
		}
		fmt.Printf("%s: welcome\n", name)
	}
	// Output:
	// Alice: looks the same as alice, who is online
	// ALICE: looks the same as alice, who is online
	// bob: welcome
}

func ExampleIsRejection() {
	refused := fmt.Errorf("login of %s: %w", "bob", auth.Reject(auth.ReasonUnknownName))
	failed := errors.New("auth service: connection refused")
	for _, err := range []error{refused, failed} {
		if reason, ok := auth.IsRejection(err); ok {
			fmt.Println("tell the client:", reason)
		} else {
			fmt.Println("log it:", err)
		}
	}
	// Output:
	// tell the client: name is not exist
	// log it: auth service: connection refused
}
