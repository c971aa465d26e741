package passwords

import (
	"strings"
	"testing"

	"github.com/chatd/chatd/auth"
)

// FuzzParse checks that parse never panics, that its errors name a line,
// that every user it accepts has a canonical name, and that setting a password
// and formatting the file keeps every user. Seeds live in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("alice:" + hashA + "\n"))
	f.Add([]byte("# c\n\nalice:" + hashA + "\r\nbob:" + hashB))
	f.Add([]byte("alice\n"))
	f.Add([]byte(":::\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := parse(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error %q does not start with the line", err)
			}
			return
		}
		for name, u := range tab.users {
			if canonical, err := auth.CanonicalName(name); err != nil || canonical != name || !isBcryptHash(string(u.hash)) {
				t.Fatalf("accepted user %+q, not a canonical name (%v), with hash %q", name, err, u.hash)
			}
			lineName, hash, _ := strings.Cut(strings.TrimSpace(tab.lines[u.line]), ":")
			if canonical, _ := auth.CanonicalName(lineName); canonical != name || hash != string(u.hash) {
				t.Fatalf("user %+q points at line %+q", name, tab.lines[u.line])
			}
		}
		before := len(tab.users)
		tab.set("fuzzed", []byte(hashB))
		again, err := parse(tab.bytes())
		if err != nil {
			t.Fatalf("reparse after set: %v\n%q", err, tab.bytes())
		}
		for name, u := range tab.users {
			if string(again.users[name].hash) != string(u.hash) {
				t.Fatalf("user %q lost in the round trip", name)
			}
		}
		if len(again.users) < before || len(again.users) > before+1 {
			t.Fatalf("%d users before set, %d after the round trip", before, len(again.users))
		}
	})
}
