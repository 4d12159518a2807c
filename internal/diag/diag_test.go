package diag

import (
	"strings"
	"testing"
)

func TestDocumentProblems(t *testing.T) {
	l := List{
		{Pointer: "/buildNumber", Severity: Error, Message: "is older"},
		{Severity: Error, Message: "the file is not valid JSON"},
		{Pointer: "/manifest", Severity: Warning, Message: "lacks virtual.reconfigure"},
	}
	want := "- /buildNumber: is older\n- the file is not valid JSON\n- warning: /manifest: lacks virtual.reconfigure"
	if got := l.String(); got != want {
		t.Errorf("String:\n%s\nwant:\n%s", got, want)
	}
	if e, w := l.Errors(), l.Warnings(); len(e) != 2 || len(w) != 1 || w[0].Message != "lacks virtual.reconfigure" {
		t.Errorf("Errors %v, Warnings %v", e, w)
	}
	// Detail leaves the severity to the caller (the engine's upgrade job
	// says "Warning: " itself).
	if got := l[2].Detail(); got != "/manifest: lacks virtual.reconfigure" {
		t.Errorf("Detail: %q", got)
	}
	if got := (List{}).String(); got != "" {
		t.Errorf("empty list: %q", got)
	}
}

func TestFileProblem(t *testing.T) {
	p := Problem{File: "schema.json", Line: 3, Column: 7, Pointer: "/a", Severity: Warning, Message: "m", Hint: "h"}
	if got, want := p.String(), "schema.json:3:7: warning: m [at /a]\n    hint: h"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := (List{p, Errorf("f", 0, 0, "x")}).Summary(); got != "1 error, 1 warning" {
		t.Errorf("Summary = %q", got)
	}
}

// At one position a producer's rank orders problems before their messages
// do; problems without a rank keep the alphabetical order.
func TestSortRank(t *testing.T) {
	l := List{
		{File: "b.go", Line: 1, Column: 1, Message: "z"},
		{File: "a.go", Line: 2, Column: 1, Message: "second", Rank: 2},
		{File: "a.go", Line: 2, Column: 1, Message: "third", Rank: 3},
		{File: "a.go", Line: 2, Column: 1, Message: "first", Rank: 1},
		{File: "a.go", Line: 1, Column: 1, Message: "y"},
		{File: "a.go", Line: 1, Column: 1, Message: "x"},
	}
	l.Sort()
	var got []string
	for _, p := range l {
		got = append(got, p.Message)
	}
	if want := "x y first second third z"; strings.Join(got, " ") != want {
		t.Errorf("sorted: %v, want %s", got, want)
	}
}

// TestProblemOfNoFile: a problem no file is at fault for (no Go
// toolchain) prints without a location, not ": message".
func TestProblemOfNoFile(t *testing.T) {
	p := Problem{Severity: Error, Message: "no go", Hint: "install Go"}
	if got, want := p.String(), "no go\n    hint: install Go"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
