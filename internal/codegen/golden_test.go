package codegen

import (
	"bytes"
	"encoding/json"
	"flag"
	"go/format"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/codegen")

// goldenRoot holds one directory per case: schema.json (definitions that
// are missing get the `dvp init` default), want/ (the expected files),
// warnings.txt (the expected warnings) and samples.json (data that the
// compiled code must round-trip or reject, see compile_test.go).
var goldenRoot = filepath.Join("..", "..", "testdata", "codegen")

// defaultDefinition is what `dvp init` writes for the definitions without
// properties.
const defaultDefinition = `{"type": "object", "additionalProperties": false, "properties": {}}`

type goldenCase struct {
	name string
	dir  string
	defs map[string]json.RawMessage
}

func loadCases(t testing.TB) []goldenCase {
	t.Helper()
	entries, err := os.ReadDir(goldenRoot)
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(goldenRoot, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, "schema.json"))
		if err != nil {
			t.Fatal(err)
		}
		var defs map[string]json.RawMessage
		if err := json.Unmarshal(data, &defs); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, k := range Definitions {
			if _, ok := defs[k]; !ok {
				defs[k] = json.RawMessage(defaultDefinition)
			}
		}
		cases = append(cases, goldenCase{name: e.Name(), dir: dir, defs: defs})
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	return cases
}

func warningsText(res *Result) string {
	var b strings.Builder
	for _, w := range res.Warnings {
		b.WriteString(w.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 25 {
		t.Errorf("only %d golden cases; want at least 25", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Generate(c.defs, Options{SchemaFile: "schema.json"})
			if err != nil {
				t.Fatal(err)
			}
			again, err := Generate(c.defs, Options{SchemaFile: "schema.json"})
			if err != nil {
				t.Fatal(err)
			}
			for name, src := range res.Files {
				if !bytes.Equal(src, again.Files[name]) {
					t.Errorf("%s differs between two runs", name)
				}
				if !bytes.HasPrefix(src, []byte(Header+"\n")) {
					t.Errorf("%s does not start with the header", name)
				}
				if formatted, err := format.Source(src); err != nil || !bytes.Equal(formatted, src) {
					t.Errorf("%s is not gofmt'd (%v)", name, err)
				}
			}
			wantDir := filepath.Join(c.dir, "want")
			if *update {
				if err := os.RemoveAll(wantDir); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(wantDir, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, src := range res.Files {
					if err := os.WriteFile(filepath.Join(wantDir, name), src, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(filepath.Join(c.dir, "warnings.txt"), []byte(warningsText(res)), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			entries, err := os.ReadDir(wantDir)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/codegen -update)", err)
			}
			if len(entries) != len(res.Files) {
				t.Errorf("want/ has %d files, Generate gave %d", len(entries), len(res.Files))
			}
			for _, e := range entries {
				want, err := os.ReadFile(filepath.Join(wantDir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				got, ok := res.Files[e.Name()]
				if !ok {
					t.Errorf("Generate gave no %s", e.Name())
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the golden file; diff:\n%s", e.Name(), diffLines(string(want), string(got)))
				}
			}
			wantWarn, _ := os.ReadFile(filepath.Join(c.dir, "warnings.txt"))
			if got := warningsText(res); got != string(wantWarn) {
				t.Errorf("warnings differ:\n got:\n%s\nwant:\n%s", got, wantWarn)
			}
		})
	}
}

// diffLines shows the first differing lines (enough to see what changed).
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n- " + wl + "\n+ " + gl + "\n")
			if shown++; shown >= 8 {
				break
			}
		}
	}
	return b.String()
}
