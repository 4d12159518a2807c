package schema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/jsonschemamsg"
)

// pythonPatterns is a schema.json whose patterns Python's re accepts and
// Go's regexp does not (look-ahead, a back-reference, \Z), at the places a
// pattern can be: a property, an array's items, a definition reached by
// $ref, an anyOf branch. One Go-compatible pattern stays beside them.
const pythonPatterns = `{
    "repositoryDefinition": {"type": "object", "properties": {"name": {"type": "string"}}, "nameField": "name", "identityFields": ["name"]},
    "sourceConfigDefinition": {"type": "object", "properties": {"name": {"type": "string"}}, "nameField": "name", "identityFields": ["name"]},
    "virtualSourceDefinition": {
        "type": "object",
        "definitions": {"word": {"type": "string", "pattern": "^(\\w)\\1$"}},
        "properties": {
            "user": {"type": "string", "pattern": "^(?!root$)[a-z]+$", "maxLength": 8},
            "dirs": {"type": "array", "items": {"type": "string", "pattern": "^/.*\\Z"}},
            "twice": {"$ref": "#/definitions/word"},
            "either": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "(?<=a)b"}]},
            "port": {"type": "string", "pattern": "^[0-9]+$"},
            "pattern": {"type": "string"}
        },
        "default": {"pattern": "(?=kept)"}
    },
    "linkedSourceDefinition": {"type": "object", "properties": {}},
    "snapshotDefinition": {"type": "object", "properties": {}},
    "snapshotParametersDefinition": {"type": "object", "properties": {}}
}`

// A pattern Go cannot compile is valid for dvp (it warns); the engine
// validates values without it and keeps every other rule, and the
// artifact check compiles the schema.
func TestPatternsGoCannotCompile(t *testing.T) {
	s, probs := Parse("schema.json", []byte(pythonPatterns))
	if s == nil || probs.HasErrors() {
		t.Fatalf("schema refused: %v", probs)
	}
	warned := map[string]bool{}
	for _, p := range probs.Warnings() {
		if strings.Contains(p.Message, "is not a valid regular expression for Go") {
			warned[p.Pointer] = true
		}
	}
	for _, ptr := range []string{
		"/virtualSourceDefinition/definitions/word/pattern",
		"/virtualSourceDefinition/properties/user/pattern",
		"/virtualSourceDefinition/properties/dirs/items/pattern",
		"/virtualSourceDefinition/properties/either/anyOf/1/pattern",
	} {
		if !warned[ptr] {
			t.Errorf("no warning at %s: %v", ptr, probs)
		}
	}

	valid := `{"user": "root", "dirs": ["x"], "twice": "ab", "either": "zz", "port": "80", "pattern": "p"}`
	if got := s.ValidateValue("virtualSourceDefinition", decodeValue(t, valid)); len(got) != 0 {
		t.Errorf("a value that only the dropped patterns would refuse was refused: %v", got)
	}
	bad := `{"user": "much-too-long", "port": "eighty"}`
	got := s.ValidateValue("virtualSourceDefinition", decodeValue(t, bad))
	var msgs []string
	for _, p := range got {
		msgs = append(msgs, p.Pointer+" "+p.Message)
		if p.Severity != diag.Error {
			t.Errorf("problem %+v", p)
		}
	}
	want := []string{"/port 'eighty' does not match '^[0-9]+$'", "/user 'much-too-long' is too long"}
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", msgs, want)
	}

	var doc map[string]any
	if err := json.Unmarshal([]byte(pythonPatterns), &doc); err != nil {
		t.Fatal(err)
	}
	vs := doc["virtualSourceDefinition"]
	if err := CheckCompiles("/virtualSourceDefinition/parameters", vs); err != nil {
		t.Errorf("the artifact check refuses the schema: %v", err)
	}
	// The caller's document is left as it was, data values included.
	props := vs.(map[string]any)["properties"].(map[string]any)
	if props["user"].(map[string]any)["pattern"] != "^(?!root$)[a-z]+$" {
		t.Errorf("the caller's schema was changed: %v", props["user"])
	}
	cleaned, changed := withoutForeignPatterns(vs)
	if !changed {
		t.Fatal("nothing left out")
	}
	if d := cleaned.(map[string]any)["default"].(map[string]any); d["pattern"] != "(?=kept)" {
		t.Errorf("a data value was changed: %v", d)
	}
	if _, has := cleaned.(map[string]any)["properties"].(map[string]any)["port"].(map[string]any)["pattern"]; !has {
		t.Error("a pattern Go compiles was left out")
	}
	if _, changed := withoutForeignPatterns(map[string]any{"type": "string", "pattern": "^a$"}); changed {
		t.Error("a schema without foreign patterns was copied")
	}
}

func decodeValue(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonschemamsg.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
