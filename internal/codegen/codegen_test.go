package codegen

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/diag"
)

func defsWith(over map[string]string) map[string]json.RawMessage {
	defs := map[string]json.RawMessage{}
	for _, d := range Definitions {
		defs[d] = json.RawMessage(defaultDefinition)
	}
	for k, v := range over {
		defs[k] = json.RawMessage(v)
	}
	return defs
}

func TestGenerateErrors(t *testing.T) {
	cases := []struct {
		name    string
		defs    map[string]json.RawMessage
		pointer string
		message string
	}{
		{"unresolvable ref", defsWith(map[string]string{"linkedSourceDefinition": `{"properties": {"a": {"$ref": "#/definitions/nope"}}}`}),
			"/linkedSourceDefinition/properties/a/$ref", `cannot resolve $ref "#/definitions/nope"`},
		{"unresolvable cross ref", defsWith(map[string]string{"linkedSourceDefinition": `{"properties": {"a": {"$ref": "#/repositoryDefinition/properties/x"}}}`}),
			"/linkedSourceDefinition/properties/a/$ref", "has no member"},
		{"non-object definition", defsWith(map[string]string{"snapshotDefinition": `{"type": "string"}`}),
			"/snapshotDefinition/type", "must describe an object"},
		{"definition not a schema object", defsWith(map[string]string{"snapshotDefinition": `[]`}),
			"/snapshotDefinition", "must be a JSON Schema object"},
		{"missing definition", func() map[string]json.RawMessage {
			d := defsWith(nil)
			delete(d, "snapshotDefinition")
			return d
		}(), "/snapshotDefinition", "is missing"},
		{"extra definition", defsWith(map[string]string{"virtualToPhysicalDefinition": `{}`}),
			"/virtualToPhysicalDefinition", "not one of the six"},
		{"invalid JSON", defsWith(map[string]string{"linkedSourceDefinition": `{"a": }`}),
			"/linkedSourceDefinition", "invalid JSON"},
		// dvp's validation reads Python's non-finite numbers (with a warning);
		// the generator says what it cannot do with them.
		{"NaN", defsWith(map[string]string{"snapshotDefinition": `{"type": "object", "x": NaN}`}),
			"/snapshotDefinition", "NaN is not a JSON number (dvp's validation accepts it with a warning); the code generator needs a finite number"},
		{"-Infinity", defsWith(map[string]string{"snapshotDefinition": `{"type": "object", "x": [-Infinity]}`}),
			"/snapshotDefinition", "-Infinity is not a JSON number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Generate(c.defs, Options{SchemaFile: "plugin/schema.json"})
			if err == nil {
				t.Fatalf("Generate succeeded: %v", res.Files)
			}
			var ge *Error
			if !errors.As(err, &ge) || len(ge.Problems) == 0 {
				t.Fatalf("error %v is not a *codegen.Error", err)
			}
			p := ge.Problems[0]
			if p.Pointer != c.pointer || !strings.Contains(p.Message, c.message) || p.File != "plugin/schema.json" || p.Severity != diag.Error {
				t.Errorf("problem = %+v; want pointer %s, message containing %q", p, c.pointer, c.message)
			}
			if !strings.Contains(err.Error(), c.pointer) {
				t.Errorf("Error() does not name the pointer: %s", err)
			}
		})
	}
}

func TestGenerateReportsAllErrors(t *testing.T) {
	_, err := Generate(defsWith(map[string]string{
		"linkedSourceDefinition":  `{"properties": {"a": {"$ref": "#/definitions/nope"}, "b": {"$ref": "#/nope"}}}`,
		"virtualSourceDefinition": `{"properties": {"c": {"$ref": "#/definitions/gone"}}}`,
	}), Options{})
	var ge *Error
	if !errors.As(err, &ge) || len(ge.Problems) != 3 {
		t.Fatalf("err = %v", err)
	}
}

// A pattern Go's regexp rejects (look-around, back-references, \Z: Python's
// re has them, and dvp accepts any pattern) is not an error: the generated
// code leaves that one check out, and keeps the others. Validating
// schema.json warns about it; testdata/codegen/python_patterns runs the
// compiled code.
func TestPatternsGoRejectsAreLeftOut(t *testing.T) {
	for _, pattern := range []string{"(?=x)", "a{2,1}", "(", `\\`, `^(\\w)\\1$`} {
		res, err := Generate(defsWith(map[string]string{
			"linkedSourceDefinition": `{"properties": {"a": {"type": "string", "pattern": "` + pattern + `", "maxLength": 3}}}`,
			"snapshotDefinition":     `{"definitions": {"d": {"type": "string", "pattern": "` + pattern + `"}}, "properties": {"a": {"$ref": "#/definitions/d"}}}`,
		}), Options{})
		if err != nil {
			t.Fatalf("pattern %s: %v", pattern, err)
		}
		for _, name := range []string{"linked_source_definition.go", "snapshot_definition.go"} {
			src := string(res.Files[name])
			if strings.Contains(src, "Pattern") || strings.Contains(src, "regexp") {
				t.Errorf("pattern %s: %s checks the pattern:\n%s", pattern, name, src)
			}
		}
		if src := string(res.Files["linked_source_definition.go"]); !strings.Contains(src, "MaxLength") {
			t.Errorf("pattern %s: the maxLength check is gone:\n%s", pattern, src)
		}
	}
}

func TestGenerateOptions(t *testing.T) {
	res, err := Generate(defsWith(nil), Options{Package: "schema"})
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range res.Files {
		if !strings.Contains(string(src), "\npackage schema\n") {
			t.Errorf("%s does not declare package schema", name)
		}
	}
	want := []string{"doc.go", "linked_source_definition.go", "repository_definition.go", "snapshot_definition.go", "snapshot_parameters_definition.go", "source_config_definition.go", "virtual_source_definition.go"}
	if len(res.Files) != len(want) {
		t.Errorf("files: %d", len(res.Files))
	}
	for _, w := range want {
		if _, ok := res.Files[w]; !ok {
			t.Errorf("no %s", w)
		}
	}
	if _, err := Generate(defsWith(nil), Options{Package: "not-a-name"}); err == nil {
		t.Error("an invalid package name was accepted")
	}
}

func TestWarningsCarryFileAndPointer(t *testing.T) {
	res, err := Generate(defsWith(map[string]string{
		"linkedSourceDefinition": `{"properties": {"2fast": {"type": "string"}, "any": {"oneOf": [{"type": "string"}]}}}`,
	}), Options{SchemaFile: "x/schema.json"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"/linkedSourceDefinition/properties/2fast": false, "/linkedSourceDefinition/properties/any/oneOf": false}
	for _, w := range res.Warnings {
		if w.File != "x/schema.json" || w.Severity != diag.Warning {
			t.Errorf("warning %+v", w)
		}
		if _, ok := want[w.Pointer]; ok {
			want[w.Pointer] = true
		}
	}
	for p, seen := range want {
		if !seen {
			t.Errorf("no warning at %s (got %v)", p, res.Warnings)
		}
	}
}

// The same schema with its properties in another order gives fields in that
// order: Generate keeps the property order of schema.json.
func TestPropertyOrderIsKept(t *testing.T) {
	res, err := Generate(defsWith(map[string]string{"snapshotDefinition": `{"properties": {"zeta": {"type": "string"}, "alpha": {"type": "string"}, "mid": {"type": "string"}}}`}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := string(res.Files["snapshot_definition.go"])
	z, a, m := strings.Index(src, "Zeta "), strings.Index(src, "Alpha "), strings.Index(src, "Mid ")
	if !(z < a && a < m) {
		t.Errorf("fields not in schema order:\n%s", src)
	}
}

func TestSanitizeComments(t *testing.T) {
	got := sanitize("a */ b\r\nc\u2028d\x00e\n\n\n\nf   \n")
	want := []string{"a */ b", "c", "d e", "", "f"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sanitize = %q", got)
	}
	if c := comment([]string{"x", "", "y"}); c != "// x\n//\n// y" {
		t.Errorf("comment = %q", c)
	}
}
