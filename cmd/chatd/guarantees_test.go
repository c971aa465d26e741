package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// guaranteesHeading opens the section of docs/PROTOCOL.md that maps every
// promise the document makes to the tests that keep it.
const guaranteesHeading = "## Guarantees and their tests"

// minGuarantees is the fewest rows the table may have: PROTOCOL.md makes
// many more promises than this, so a shorter table has lost rows.
const minGuarantees = 25

// TestEveryGuaranteeHasATest reads the guarantees table of
// docs/PROTOCOL.md (| guarantee | test |) and checks that every row names
// at least one test, in backticks, and that each named test exists as
// "func TestName(" in a *_test.go file of the module.
func TestEveryGuaranteeHasATest(t *testing.T) {
	root := moduleRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "PROTOCOL.md"))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := testFuncs(root)
	if err != nil {
		t.Fatal(err)
	}
	rows, errs := checkGuarantees(string(doc), tests)
	for _, err := range errs {
		t.Error(err)
	}
	if len(rows) < minGuarantees {
		t.Errorf("the guarantees table has %d rows, want at least %d", len(rows), minGuarantees)
	}
}

// TestGuaranteeTableChecker shows that checkGuarantees refuses what it
// should: a missing section, a row without a test, a test that does not
// exist, and a name that is not a test name.
func TestGuaranteeTableChecker(t *testing.T) {
	tests := map[string]bool{"TestA": true, "TestB": true}
	table := func(rows ...string) string {
		return "# doc\n\n" + guaranteesHeading + "\n\nIntro.\n\n| guarantee | test |\n|---|---|\n" +
			strings.Join(rows, "\n") + "\n\n## Next\n\n| not | this |\n|---|---|\n| x | `TestMissing` |\n"
	}
	for _, tc := range []struct {
		name string
		doc  string
		rows int
		errs []string // substrings, one per expected error
	}{
		{name: "good", doc: table("| one | `TestA` |", "| two `x \\| y` | `TestA`, `TestB` |"), rows: 2},
		{name: "no section", doc: "# doc\n\n| guarantee | test |\n|---|---|\n| one | `TestA` |\n", errs: []string{"no section"}},
		{name: "no table", doc: "# doc\n\n" + guaranteesHeading + "\n\nNothing.\n", errs: []string{"no table"}},
		{name: "row without a test", doc: table("| one | `TestA` |", "| two |  |"), rows: 2, errs: []string{`"two" names no test`}},
		{name: "test without backticks", doc: table("| one | TestA |"), rows: 1, errs: []string{`"one" names no test`}},
		{name: "missing test", doc: table("| one | `TestA` `TestGone` |"), rows: 1, errs: []string{`"one": no func TestGone(`}},
		{name: "not a test name", doc: table("| one | `TestA/sub` |"), rows: 1, errs: []string{`"one": "TestA/sub" is not a test name`}},
		{name: "wrong columns", doc: table("| one | `TestA` | extra |"), rows: 1, errs: []string{"3 cells"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, errs := checkGuarantees(tc.doc, tests)
			if len(rows) != tc.rows {
				t.Errorf("%d rows, want %d", len(rows), tc.rows)
			}
			if len(errs) != len(tc.errs) {
				t.Fatalf("errors %q, want %d matching %q", errs, len(tc.errs), tc.errs)
			}
			for i, want := range tc.errs {
				if !strings.Contains(errs[i].Error(), want) {
					t.Errorf("error %q does not contain %q", errs[i], want)
				}
			}
		})
	}
}

// guarantee is one row of the table.
type guarantee struct {
	line  int // in the document, from 1
	text  string
	tests []string
}

var (
	backticked = regexp.MustCompile("`([^`]*)`")
	testName   = regexp.MustCompile(`^Test[A-Za-z0-9_]*$`)
	testFunc   = regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]*)\(`)
)

// checkGuarantees parses the guarantees table of doc and checks each row
// against tests, the set of test functions that exist. It returns the rows
// and one error per problem.
func checkGuarantees(doc string, tests map[string]bool) (rows []guarantee, errs []error) {
	lines := strings.Split(doc, "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == guaranteesHeading {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil, []error{fmt.Errorf("docs/PROTOCOL.md has no section %q", guaranteesHeading)}
	}
	inTable := false
	for i := start; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "## ") || (inTable && !strings.HasPrefix(l, "|")) {
			break // the table, or the section, ended
		}
		if !strings.HasPrefix(l, "|") {
			continue
		}
		cells := splitRow(l)
		if !inTable { // the header, then the delimiter row
			inTable = true
			i++
			continue
		}
		if len(cells) != 2 {
			errs = append(errs, fmt.Errorf("PROTOCOL.md:%d: %d cells, want | guarantee | test |: %s", i+1, len(cells), l))
			if len(cells) < 2 {
				continue
			}
		}
		g := guarantee{line: i + 1, text: cells[0]}
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			g.tests = append(g.tests, m[1])
		}
		rows = append(rows, g)
		if len(g.tests) == 0 {
			errs = append(errs, fmt.Errorf("PROTOCOL.md:%d: guarantee %q names no test (want `TestName` in the test cell)", g.line, g.text))
		}
		for _, name := range g.tests {
			switch {
			case !testName.MatchString(name):
				errs = append(errs, fmt.Errorf("PROTOCOL.md:%d: guarantee %q: %q is not a test name", g.line, g.text, name))
			case !tests[name]:
				errs = append(errs, fmt.Errorf("PROTOCOL.md:%d: guarantee %q: no func %s( in any *_test.go file", g.line, g.text, name))
			}
		}
	}
	if !inTable {
		errs = append(errs, fmt.Errorf("section %q has no table", guaranteesHeading))
	}
	return rows, errs
}

// splitRow returns the trimmed cells of a markdown table row; "\|" does
// not split.
func splitRow(l string) []string {
	l = strings.TrimSuffix(strings.TrimPrefix(l, "|"), "|")
	var cells []string
	var cell strings.Builder
	for i := 0; i < len(l); i++ {
		switch {
		case l[i] == '\\' && i+1 < len(l) && l[i+1] == '|':
			cell.WriteByte('|')
			i++
		case l[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(l[i])
		}
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

// testFuncs returns the names of the test functions in the module's
// *_test.go files.
func testFuncs(root string) (map[string]bool, error) {
	tests := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(src), -1) {
			tests[m[1]] = true
		}
		return nil
	})
	return tests, err
}

// moduleRoot returns the directory of the module's go.mod, searching up
// from the test's working directory (its package directory).
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}
