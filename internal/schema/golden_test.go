package schema

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/diag"
)

// TestJSONSchemaGolden compares the meta-validation errors with those
// Python's jsonschema reports for the same random documents
// (testdata/schema/meta/jsonschema_golden.json, made by gen_golden.py
// beside it): same instance paths, same messages, same anyOf context.
func TestJSONSchemaGolden(t *testing.T) {
	path := "../../testdata/schema/meta/jsonschema_golden.json"
	if p := os.Getenv("DVP_JSONSCHEMA_GOLDEN"); p != "" {
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Doc    string `json:"doc"`
			Errors []struct {
				Path    []string `json:"path"`
				Message string   `json:"message"`
				Context []string `json:"context"`
			} `json:"errors"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) < 200 {
		t.Fatalf("golden corpus too small: %d", len(golden.Cases))
	}
	for i, c := range golden.Cases {
		_, probs := Parse("schema.json", []byte(c.Doc))
		var got, want []string
		for _, p := range probs {
			if p.Severity != diag.Error {
				continue
			}
			got = append(got, p.Pointer+" "+p.Message)
		}
		for _, e := range c.Errors {
			ptr := ""
			for _, tok := range e.Path {
				ptr += "/" + strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
			}
			if strings.HasSuffix(e.Message, " is a required property") {
				ptr += "/" + strings.Trim(strings.TrimSuffix(e.Message, " is a required property"), "'")
			}
			if strings.HasPrefix(e.Message, "Additional properties are not allowed (") {
				ptr += "/" + strings.TrimSuffix(strings.TrimPrefix(e.Message, "Additional properties are not allowed ('"), "' was unexpected)")
			}
			want = append(want, ptr+" "+e.Message)
		}
		sort.Strings(got)
		sort.Strings(want)
		if !equalModuloElision(got, want) {
			t.Errorf("case %d %s:\n got  %q\n want %q", i, c.Doc, got, want)
		}
	}
}

// equalModuloElision compares messages, accepting a got message whose long
// value repr was shortened to "<prefix>..." when want has the full value.
func equalModuloElision(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] == want[i] {
			continue
		}
		pre, post, ok := strings.Cut(got[i], "... ")
		if !ok || !strings.HasPrefix(want[i], pre) || !strings.HasSuffix(want[i], " "+post) {
			return false
		}
	}
	return true
}
