package httpauth

import (
	"testing"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/authtest"
)

// FuzzAnswer feeds arbitrary bodies to the parsers of the service's answers:
// a 200 body must give a canonical name or an error, never a panic, and a
// cleaned reason must be empty or fit for a client. Seeds live in
// testdata/fuzz/FuzzAnswer.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(`{"name":"alice","max_sessions":2}`))
	f.Add([]byte(`{"error":"line\none\u2028"}`))
	f.Add([]byte(`{"name":null}`))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if id, err := identity(body); err == nil {
			if canonical, err := auth.CanonicalName(id.Name); err != nil || canonical != id.Name || id.MaxSessions < 0 {
				t.Fatalf("identity(%q) = %+v", body, id)
			}
		}
		if r := cleanReason(string(body)); r != "" {
			if msg := authtest.CheckReason(r); msg != "" {
				t.Fatalf("cleanReason(%q) = %q: %s", body, r, msg)
			}
		}
	})
}
