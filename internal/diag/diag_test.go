package diag

import "testing"

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
