package passwords

import (
	"strings"
	"testing"
)

// hashA and hashB are bcrypt hashes (cost 4) of "a" and "b".
const (
	hashA = "$2a$04$eHcRs90KXlhGjn7Q3uPHC.TU7tKzEO9Kk7yem7pJLZXinkvoVIyka"
	hashB = "$2a$04$b8irO6g6NyFknu1uCvrks.7HvQ687t6kyNwAJRFApXnE2tnnC2sS6"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name  string
		file  string
		users map[string]string // name → hash
		err   string            // substring of the error; "" means valid
	}{
		{name: "empty", file: "", users: map[string]string{}},
		{name: "only comments", file: "# chatd users\n\n   # indented\n", users: map[string]string{}},
		{name: "two users", file: "alice:" + hashA + "\nbob:" + hashB + "\n",
			users: map[string]string{"alice": hashA, "bob": hashB}},
		{name: "no final newline", file: "alice:" + hashA, users: map[string]string{"alice": hashA}},
		{name: "CRLF and spaces", file: "# c\r\n  alice:" + hashA + "  \r\n\r\n",
			users: map[string]string{"alice": hashA}},
		{name: "byte order mark", file: "\ufeffalice:" + hashA + "\n", users: map[string]string{"alice": hashA}},
		{name: "2b and 2y", file: "a:" + "$2b$" + hashA[4:] + "\nb:$2y$" + hashB[4:] + "\n",
			users: map[string]string{"a": "$2b$" + hashA[4:], "b": "$2y$" + hashB[4:]}},
		{name: "unicode name", file: "Łukasz:" + hashA, users: map[string]string{"Łukasz": hashA}},
		{name: "name kept by its canonical form", file: "Jose\u0301:" + hashA + "\nａｌｉｃｅ:" + hashB,
			users: map[string]string{"José": hashA, "alice": hashB}},
		{name: "case is not a duplicate", file: "alice:" + hashA + "\nAlice:" + hashB,
			users: map[string]string{"alice": hashA, "Alice": hashB}},

		{name: "no colon", file: "# users\nalice\n", err: "line 2: want name:bcrypt-hash"},
		{name: "empty name", file: ":" + hashA, err: `line 1: name "": name is empty`},
		{name: "name with space", file: "al ice:" + hashA, err: `line 1: name "al ice": name contains whitespace`},
		{name: "long name", file: strings.Repeat("n", 33) + ":" + hashA, err: "name is longer than 32 characters"},
		{name: "plain password", file: "alice:secret", err: `line 1: user "alice": want a bcrypt hash`},
		{name: "hash cut short", file: "alice:" + hashA[:59], err: "want a bcrypt hash"},
		{name: "hash too long", file: "alice:" + hashA + "x", err: "want a bcrypt hash"},
		{name: "md5 crypt", file: "alice:$1$" + hashA[3:], err: "want a bcrypt hash"},
		{name: "cost out of range", file: "alice:$2a$03$" + hashA[7:], err: "want a bcrypt hash"},
		{name: "bad character in hash", file: "alice:" + hashA[:30] + "!" + hashA[31:], err: "want a bcrypt hash"},
		{name: "duplicate", file: "alice:" + hashA + "\n#\nalice:" + hashB, err: `line 3: user "alice" is already on line 1`},
		{name: "invalid UTF-8", file: "\xffalice:" + hashA, err: "line 1: name"},
		{name: "duplicate in another form", file: "José:" + hashA + "\nJose\u0301:" + hashB,
			err: "line 2: user \"Jose\u0301\" is already on line 1 (the same name in another Unicode form)"},
		{name: "zero width space", file: "ali\u200bce:" + hashA,
			err: `line 1: name "ali\u200bce": name contains invisible or disallowed characters`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab, err := parse([]byte(c.file))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("parse = %v; want an error containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse = %v", err)
			}
			got := make(map[string]string, len(tab.users))
			for name, u := range tab.users {
				got[name] = string(u.hash)
			}
			if len(got) != len(c.users) {
				t.Fatalf("users = %v; want %v", got, c.users)
			}
			for name, hash := range c.users {
				if got[name] != hash {
					t.Errorf("user %q: hash %q; want %q", name, got[name], hash)
				}
			}
		})
	}
}

func TestSetKeepsOtherLines(t *testing.T) {
	file := "# chatd users\nalice:" + hashA + "\n\n# bob below\nbob:" + hashA + "\n"
	tab, err := parse([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	tab.set("alice", []byte(hashB))
	tab.set("carol", []byte(hashB))
	want := "# chatd users\nalice:" + hashB + "\n\n# bob below\nbob:" + hashA + "\ncarol:" + hashB + "\n"
	if got := string(tab.bytes()); got != want {
		t.Errorf("bytes() =\n%s\nwant\n%s", got, want)
	}
	again, err := parse(tab.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if string(again.users["carol"].hash) != hashB || string(again.users["alice"].hash) != hashB {
		t.Errorf("reparsed users = %v", again.users)
	}
}
