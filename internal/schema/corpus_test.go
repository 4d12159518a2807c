package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/jsonschemamsg/msgtest"
)

// TestCorpus runs every testdata/schema/cases/*.txtar archive: the
// schema.json file is parsed and the problems must match the "want"
// section exactly (see msgtest.ParseWant).
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("../../testdata/schema/cases/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("schema corpus has %d cases, want at least 30", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, archive := msgtest.ParseArchive(raw)
			var want string
			var data []byte
			found := false
			for _, f := range archive {
				switch f.Name {
				case "want":
					want = string(f.Data)
				case "schema.json":
					data, found = f.Data, true
				}
			}
			if !found {
				t.Fatal("no schema.json in the archive")
			}
			if strings.Contains(name, "noeol") {
				data = []byte(strings.TrimSuffix(string(data), "\n"))
			}
			valid, exps, err := msgtest.ParseWant(want)
			if err != nil {
				t.Fatal(err)
			}
			s, probs := Parse("schema.json", data)
			if s == nil && valid {
				t.Errorf("valid schema returned no Schema")
			}
			for _, p := range probs {
				if p.Hint == "" || p.Line < 1 || p.Column < 1 {
					t.Errorf("problem without hint or position: %+v", p)
				}
			}
			if d := msgtest.Match(probs, valid, exps); len(d) > 0 {
				t.Errorf("%s\nall problems:\n%s", strings.Join(d, "\n"), dump(probs))
			}
		})
	}
}

func dump(l diag.List) string {
	var b strings.Builder
	for _, p := range l {
		b.WriteString("  ")
		b.WriteString(strings.ReplaceAll(p.String(), "\n", "\n  "))
		b.WriteString(" {" + p.Pointer + "}\n")
	}
	return b.String()
}
