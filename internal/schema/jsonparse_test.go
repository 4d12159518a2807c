package schema

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/pycompat"
	"github.com/dvpkit/dvp/internal/pycompat/pyjson"
)

// TestPythonJSONGolden compares pyjson.Parse with Python 3.11's json.loads on
// the inputs of testdata/schema/json/pyjson_golden.json (made by
// gen_golden.py beside it): same verdict, value, message and position.
func TestPythonJSONGolden(t *testing.T) {
	path := "../../testdata/schema/json/pyjson_golden.json"
	if p := os.Getenv("DVP_PYJSON_GOLDEN"); p != "" {
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			In    string `json:"in"`
			Error string `json:"error"`
			Line  int    `json:"line"`
			Col   int    `json:"col"`
			Char  int    `json:"char"`
			Value any    `json:"value"`
		} `json:"cases"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) < 500 {
		t.Fatalf("golden corpus too small: %d", len(golden.Cases))
	}
	for i, c := range golden.Cases {
		in := []byte(c.In)
		root, jerr := pyjson.Parse(in)
		if c.Error != "" {
			if jerr == nil {
				t.Errorf("case %d %q: accepted, Python: %s", i, c.In, c.Error)
				continue
			}
			if c.Error == "RecursionError" {
				continue
			}
			li := pyjson.NewLineIndex(in)
			l, col := li.Pos(jerr.Off)
			if jerr.Msg != c.Error || (c.Line > 0 && (l != c.Line || col != c.Col || li.Char(jerr.Off) != c.Char)) {
				t.Errorf("case %d %q: got %q at %d:%d (char %d), Python %q at %d:%d (char %d)",
					i, c.In, jerr.Msg, l, col, li.Char(jerr.Off), c.Error, c.Line, c.Col, c.Char)
			}
			continue
		}
		if jerr != nil {
			t.Errorf("case %d %q: rejected (%s at %d), Python accepts", i, c.In, jerr.Msg, jerr.Off)
			continue
		}
		got := normalizeNumbers(forValidation(decode(root).value))
		if !reflect.DeepEqual(got, c.Value) {
			t.Errorf("case %d %q:\n got  %#v\n want %#v", i, c.In, got, c.Value)
		}
	}
}

func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if pycompat.IsFloatNumber(v) {
			return map[string]any{"$float": pycompat.ReprNumber(v)}
		}
		return map[string]any{"$int": pycompat.ReprNumber(v)}
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalizeNumbers(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = normalizeNumbers(e)
		}
		return out
	}
	return v
}
