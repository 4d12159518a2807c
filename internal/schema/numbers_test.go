package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNumbersBounded: the validator computes with JSON numbers exactly, so
// a nine-byte 1e-999999 is a million-digit fraction to it (~0.14 s of CPU
// each time): a schema or a value holding one is refused before the
// validator reads it, saying where; a schema's number must also fit a
// double (the engine would store 1e400 as Infinity, which is not JSON).
// Numbers within the bounds are validated as before.
func TestNumbersBounded(t *testing.T) {
	for _, c := range []struct{ schema, want string }{
		{`{"minimum": 1e400}`, "the number 1e400 is beyond the range of a double"},
		{`{"properties": {"n": {"multipleOf": 1e-999999}}}`, "the number 1e-999999 has an exponent beyond 1000 (at /properties/n/multipleOf)"},
		{`{"enum": [1, 1` + strings.Repeat("0", 120) + `]}`, "characters, more than the 100 accepted (at /enum/1)"},
	} {
		var doc any
		d := json.NewDecoder(strings.NewReader(c.schema))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if err := CheckCompiles("x", doc); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.schema, err, c.want)
		}
		s := &Schema{Definitions: map[string]json.RawMessage{"repositoryDefinition": json.RawMessage(c.schema)}}
		if ps := s.ValidateValue("repositoryDefinition", json.Number("1")); len(ps) != 1 || !strings.Contains(ps[0].Message, c.want) {
			t.Errorf("a stored schema %s: %v, want %q", c.schema, ps, c.want)
		}
	}
	s := &Schema{Definitions: map[string]json.RawMessage{"repositoryDefinition": json.RawMessage(`{"properties": {"a": {"type": "array", "items": {"minimum": 0, "maximum": 1e300}}}}`)}}
	value := map[string]any{"a": []any{json.Number("1"), json.Number("1e-999999"), json.Number("1e999999")}}
	ps := s.ValidateValue("repositoryDefinition", value)
	if len(ps) != 1 || ps[0].Pointer != "/a/1" || !strings.Contains(ps[0].Message, "the number 1e-999999 has an exponent beyond 1000") {
		t.Errorf("a value with 1e-999999: %v", ps)
	}
	// Within the bounds: validated as before (1e400 is a value's number a
	// double cannot hold, compared exactly).
	ps = s.ValidateValue("repositoryDefinition", map[string]any{"a": []any{json.Number("0.5"), json.Number("1e400"), json.Number("-2")}})
	if len(ps) != 2 || ps[0].Pointer+" "+ps[1].Pointer != "/a/2 /a/1" && ps[0].Pointer+" "+ps[1].Pointer != "/a/1 /a/2" {
		t.Errorf("a value within the bounds: %v", ps)
	}
}
