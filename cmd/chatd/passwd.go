package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/passwords"
)

// maxPasswordLine bounds the line read from stdin; bcrypt takes 72 bytes.
const maxPasswordLine = 1024

// runPasswd is `chatd passwd FILE NAME` (args are what follows "passwd"):
// it reads NAME's new password from the first line of stdin, without its
// line ending, and adds NAME to the password file FILE or replaces its
// password there, with bcrypt at bcrypt.DefaultCost. A running server picks
// the change up at the next login. It returns the exit status: 0 when the
// password was set, 1 when it could not be, 2 for a usage error.
func runPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runPasswdCost(args, stdin, stdout, stderr, bcrypt.DefaultCost)
}

// runPasswdCost is runPasswd with the bcrypt cost as a parameter, so tests
// can use a cheap one.
func runPasswdCost(args []string, stdin io.Reader, stdout, stderr io.Writer, cost int) int {
	fs := flag.NewFlagSet("chatd passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), `Usage:
  chatd passwd FILE NAME

Sets NAME's password in the bcrypt password file FILE (the passwords
backend's auth.passwords.file), creating the file if needed. The password is
the first line of standard input, for example:
  printf '%s\n' "$PASSWORD" | chatd passwd ./data/passwords alice
`)
	}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(fs.Output(), "chatd passwd: want FILE and NAME, got %d arguments\n", fs.NArg())
		fs.Usage()
		return 2
	}
	file, name := fs.Arg(0), fs.Arg(1)
	if err := auth.CheckName(name); err != nil {
		reason, _ := auth.IsRejection(err)
		fmt.Fprintf(stderr, "chatd passwd: name %q: %s\n", name, reason)
		return 1
	}
	if isTerminal(stdin) {
		fmt.Fprintf(stderr, "New password for %s (shown as you type): ", name)
	}
	password, err := readPassword(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "chatd passwd: %v\n", err)
		return 1
	}
	if err := passwords.SetPassword(file, name, password, cost); err != nil {
		fmt.Fprintf(stderr, "chatd passwd: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: password set for %s\n", file, name)
	return 0
}

// readPassword returns the first line of r without "\n" or "\r\n".
func readPassword(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxPasswordLine+1), maxPasswordLine+1)
	line, err := br.ReadString('\n')
	switch {
	case err == io.EOF && len(line) > maxPasswordLine:
		return "", fmt.Errorf("password line is longer than %d bytes", maxPasswordLine)
	case err != nil && err != io.EOF:
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	password := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if password == "" {
		return "", errors.New("empty password on standard input; refusing to set it")
	}
	return password, nil
}

// isTerminal reports whether r is a terminal, where a prompt helps.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
