package pyyaml

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/dvpkit/dvp/internal/pycompat"
)

type goldenCase struct {
	In      string              `json:"in"`
	Error   bool                `json:"error"`
	Line    int                 `json:"line"`
	Col     int                 `json:"col"`
	Problem string              `json:"problem"`
	Reader  bool                `json:"reader"`
	Crash   string              `json:"crash"`
	Value   any                 `json:"value"`
	Keys    map[string][]string `json:"keys"`
}

// TestPyYAMLGolden compares Parse+Construct with what PyYAML 6 produced for
// the same inputs (testdata/config/yaml11/pyyaml_golden.json, regenerated
// by gen_golden.py beside it): same verdict, same value after the JSON
// round trip, same key order, and the same error line:column.
func TestPyYAMLGolden(t *testing.T) {
	path := "../../../testdata/config/yaml11/pyyaml_golden.json"
	if p := os.Getenv("DVP_PYYAML_GOLDEN"); p != "" {
		path = p // a bigger corpus from gen_golden.py N, for development
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []goldenCase `json:"cases"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) < 500 {
		t.Fatalf("golden corpus too small: %d", len(golden.Cases))
	}
	for i, c := range golden.Cases {
		doc, perr := Parse([]byte(c.In), Options{})
		var d *Doc
		var issues []Issue
		if perr == nil {
			d, issues = Construct(doc, 0)
		}
		var errs []Issue
		for _, is := range issues {
			if !is.Warning {
				errs = append(errs, is)
			}
		}
		gotErr := perr != nil || len(errs) > 0
		if gotErr != c.Error {
			t.Errorf("case %d %q: error=%v (%v %v), PyYAML error=%v (%s)", i, c.In, gotErr, perr, errs, c.Error, c.Problem)
			continue
		}
		if c.Error {
			if c.Line > 0 && perr != nil {
				if perr.ProblemMark == nil {
					t.Errorf("case %d %q: no mark", i, c.In)
					continue
				}
				l, col := perr.ProblemMark.Pos()
				if l != c.Line || col != c.Col || perr.Problem != c.Problem {
					t.Errorf("case %d %q: got %d:%d %q, PyYAML %d:%d %q", i, c.In, l, col, perr.Problem, c.Line, c.Col, c.Problem)
				}
			}
			continue
		}
		want := c.Value
		got := normalize(d.Root)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("case %d %q:\n got  %#v\n want %#v", i, c.In, got, want)
			continue
		}
		for ptr, keys := range c.Keys {
			if !reflect.DeepEqual(d.Order[ptr], keys) && !(len(keys) == 0 && len(d.Order[ptr]) == 0) {
				t.Errorf("case %d %q: key order at %q: got %q want %q", i, c.In, ptr, d.Order[ptr], keys)
			}
		}
	}
}

// normalize turns a constructed value into the golden file's encoding.
func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if pycompat.IsFloatNumber(v) {
			return map[string]any{"$float": pycompat.ReprNumber(v)}
		}
		return map[string]any{"$int": pycompat.ReprNumber(v)}
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}
