package schema

import (
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/jsonschemamsg/msgtest"
)

// TestCorpus runs every testdata/schema/cases/*.txtar archive: the
// schema.json file is parsed and the problems must match the "want"
// section exactly (see msgtest.ParseWant).
func TestCorpus(t *testing.T) {
	msgtest.EachCase(t, "../../testdata/schema/cases/*.txtar", 30, func(t *testing.T, name string, archive []msgtest.File) {
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
			t.Errorf("%s\nall problems:\n%s", strings.Join(d, "\n"), msgtest.Dump(probs))
		}
	})
}
