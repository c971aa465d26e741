package throttle_test

import (
	"fmt"
	"net/netip"

	"github.com/chatd/chatd/auth/throttle"
)

// A login: the address's attempt, a reserved failure for the name, and
// the failure given back because the backend accepted the login.
func Example() {
	t := throttle.New(throttle.Default())
	addr := netip.MustParseAddr("192.0.2.1")
	if !t.AllowAddress(addr) {
		fmt.Println("too many logins from your address, try again later")
		return
	}
	account, ok := t.Reserve("alice", addr)
	if !ok {
		fmt.Println("too many failed logins for this name, try again later")
		return
	}
	accepted := true // the backend's verdict
	if accepted {
		t.Release(account, addr)
	}
	fmt.Println("logged in as alice")
	// Output: logged in as alice
}
