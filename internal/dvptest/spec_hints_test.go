package dvptest

import (
	"path/filepath"
	"strings"
	"testing"
)

// A misspelt key, step or check is answered with the closest right one.
func TestLoadSuggestsTheClosestName(t *testing.T) {
	spec := `pluginn: plugin_config.yml
environments:
  staging: {locall: true}
source_configs:
  data: {environment: staging, parameters: {}}
scenarios:
  - name: s
    stepz: []
  - name: t
    steps:
      - snyc: ds1
      - link: {name: ds1, source_config: data}
        chek: []
      - sync: ds1
        check:
          - snapshot: {of: ds1, count: 2}
`
	_, err := Load(writeSpec(t, spec), lookupOf(nil))
	se, ok := err.(*SpecError)
	if !ok {
		t.Fatalf("not a SpecError: %v", err)
	}
	want := map[string]string{
		`the spec: unknown key "pluginn"`:              `did you mean "plugin"?`,
		`environment staging: unknown key "locall"`:    `did you mean "local"?`,
		`scenario s: unknown key "stepz"`:              `did you mean "steps"?`,
		`scenario t, step 1: unknown step "snyc"`:      `did you mean "sync"?`,
		`scenario t, step 2: unknown key "chek"`:       `did you mean "check"?`,
		`scenario t, step 3: unknown check "snapshot"`: `did you mean "snapshots"?`,
	}
	for msg, hint := range want {
		found := false
		for _, pr := range se.Problems {
			if strings.Contains(pr.Message, msg) {
				found = true
				if !strings.HasPrefix(pr.Hint, hint) {
					t.Errorf("%s: hint %q, want it to start with %q", msg, pr.Hint, hint)
				}
			}
		}
		if !found {
			t.Errorf("no problem %q in:\n%s", msg, se.Error())
		}
	}
	// A word close to nothing gets no guess.
	_, err = Load(writeSpec(t, "environments: {s: {local: true}}\nzzzzzzzz: 1\nscenarios: [{name: a, steps: [discover: s]}]\n"), lookupOf(nil))
	if err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("a guess for a word close to nothing: %v", err)
	}
}

// A YAML syntax error names the line and the column where the parse
// failed, and where the construct that is not closed started.
func TestLoadLocatesYAMLSyntaxErrors(t *testing.T) {
	cases := map[string]struct {
		spec       string
		line, col  int
		msgContain string
	}{
		"unclosed flow list": {"scenarios:\n  - name: a\n    steps:\n      - sync: [ds1\n", 5, 1, "(started at 4:15)"},
		"tab indentation":    {"scenarios:\n\t- name: a\n", 2, 1, `'\t'`},
		"unclosed quote":     {"scenarios:\n  - name: \"a\n", 3, 1, "quoted scalar"},
		"bad indentation":    {"scenarios:\n  - name: a\n    steps: x\n   bad: 1\n", 4, 4, "(started at 2:3)"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := writeSpec(t, c.spec)
			_, err := Load(p, lookupOf(nil))
			se, ok := err.(*SpecError)
			if !ok || len(se.Problems) != 1 {
				t.Fatalf("want one problem, got %v", err)
			}
			pr := se.Problems[0]
			if pr.File != p || pr.Line != c.line || pr.Column != c.col {
				t.Errorf("at %s:%d:%d, want %s:%d:%d (%s)", pr.File, pr.Line, pr.Column, p, c.line, c.col, pr.Message)
			}
			if !strings.Contains(pr.Message, "is not valid YAML") || !strings.Contains(pr.Message, c.msgContain) {
				t.Errorf("message %q, want it to hold %q", pr.Message, c.msgContain)
			}
		})
	}
}

// A spec that is not UTF-8 is refused at its first bad byte, in dvp's
// words (not a Python codec's).
func TestLoadRefusesNonUTF8(t *testing.T) {
	p := writeSpec(t, "scenarios:\n  - name: é\xff\n")
	_, err := Load(p, lookupOf(nil))
	se, ok := err.(*SpecError)
	if !ok || len(se.Problems) != 1 {
		t.Fatalf("want one problem, got %v", err)
	}
	pr := se.Problems[0]
	if pr.Line != 2 || pr.Column != 12 || pr.Message != "the spec is not UTF-8 text: byte 0xff is no UTF-8 character; save "+filepath.Base(p)+" as UTF-8" {
		t.Errorf("at %d:%d: %q", pr.Line, pr.Column, pr.Message)
	}
}
