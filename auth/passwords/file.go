package passwords

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatd/chatd/auth"
)

// table is a parsed password file. It keeps every line, comments included,
// so that setting one password rewrites the file without disturbing the
// rest. A table is not safe for concurrent mutation; the Authenticator
// never mutates the tables it serves.
type table struct {
	lines []string        // every line of the file, without its "\n"
	users map[string]user // by canonical name (auth.CanonicalName)
}

// user is one entry of a table.
type user struct {
	line int    // index into table.lines
	hash []byte // bcrypt hash
}

// parse reads a password file. Its errors name the 1-based line.
func parse(data []byte) (*table, error) {
	text := strings.TrimPrefix(string(data), "\ufeff") // a byte order mark, as some editors write
	text = strings.TrimSuffix(text, "\n")
	t := &table{users: make(map[string]user)}
	if text == "" {
		return t, nil
	}
	t.lines = strings.Split(text, "\n")
	for i, line := range t.lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: want name:bcrypt-hash", i+1)
		}
		canonical, err := auth.CanonicalName(name)
		if err != nil {
			reason, _ := auth.IsRejection(err)
			return nil, fmt.Errorf("line %d: name %q: %s", i+1, name, reason)
		}
		if !isBcryptHash(hash) {
			return nil, fmt.Errorf("line %d: user %q: want a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)", i+1, name)
		}
		if u, dup := t.users[canonical]; dup {
			form := ""
			if other, _, _ := strings.Cut(strings.TrimSpace(t.lines[u.line]), ":"); other != name {
				form = " (the same name in another Unicode form)"
			}
			return nil, fmt.Errorf("line %d: user %q is already on line %d%s", i+1, name, u.line+1, form)
		}
		t.users[canonical] = user{line: i, hash: []byte(hash)}
	}
	return t, nil
}

// bcryptAlphabet is bcrypt's base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// isBcryptHash reports whether s has the shape of a bcrypt hash with a cost
// bcrypt accepts. It does not run bcrypt.
func isBcryptHash(s string) bool {
	if len(s) != 60 || !(strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")) {
		return false
	}
	if s[6] != '$' || strings.Trim(s[7:], bcryptAlphabet) != "" {
		return false
	}
	_, err := bcrypt.Cost([]byte(s))
	return err == nil
}

// set adds name, a canonical name, with hash, or replaces the line of that
// user (whatever form of the name it had) in place.
func (t *table) set(name string, hash []byte) {
	line := name + ":" + string(hash)
	if u, ok := t.users[name]; ok {
		t.lines[u.line] = line
		t.users[name] = user{line: u.line, hash: hash}
		return
	}
	t.lines = append(t.lines, line)
	t.users[name] = user{line: len(t.lines) - 1, hash: hash}
}

// bytes formats the table as a file, each line ending in "\n".
func (t *table) bytes() []byte {
	var b strings.Builder
	for _, line := range t.lines {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
