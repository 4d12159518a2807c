package schema

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// chain is a definition whose allOf at each of n levels applies the next
// level twice: 2^n subschema applications on any value that fails the
// last level.
func chain(n int) string {
	var defs []string
	for i := range n {
		defs = append(defs, fmt.Sprintf(`"d%d": {"allOf": [{"$ref": "#/definitions/d%d"}, {"$ref": "#/definitions/d%d"}]}`, i, i+1, i+1))
	}
	defs = append(defs, fmt.Sprintf(`"d%d": {"required": ["x"]}`, n))
	return `{"type": "object", "definitions": {` + strings.Join(defs, ",") + `}, "allOf": [{"$ref": "#/definitions/d0"}]}`
}

// TestValidationWorkIsBounded: a plugin's schema is hostile input. A few
// kilobytes that branch on every level would make one validation run for
// ever (2^24 steps here, 2^40 as easily) and hold its errors; it stops after a bounded number
// of steps with a problem that says why. A schema that branches a little
// still gives its real problems.
func TestValidationWorkIsBounded(t *testing.T) {
	s := &Schema{Definitions: map[string]json.RawMessage{
		"linkedSourceDefinition":  json.RawMessage(chain(24)),
		"virtualSourceDefinition": json.RawMessage(chain(3)),
	}}
	ps := s.ValidateValue("linkedSourceDefinition", map[string]any{})
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "takes more than 20020 steps") || !strings.Contains(ps[0].Hint, "simplify") {
		t.Errorf("the branching schema gave %v", ps)
	}
	if ps := s.ValidateValue("virtualSourceDefinition", map[string]any{}); len(ps) != 8 || !strings.Contains(ps[0].Message, "'x' is a required property") {
		t.Errorf("a schema that branches 3 times gave %d problems: %v", len(ps), ps)
	}
}

// TestSchemaSizeAndValueDepthBounded: a definition with more subschemas
// than MaxSubschemas does not compile (at upload: CheckCompiles), and a
// value nested deeper than MaxValueDepth is refused before validation.
func TestSchemaSizeAndValueDepthBounded(t *testing.T) {
	props := make([]string, MaxSubschemas)
	for i := range props {
		props[i] = fmt.Sprintf(`"p%d": {}`, i)
	}
	var big any
	if err := json.Unmarshal([]byte(`{"type": "object", "properties": {`+strings.Join(props, ",")+`}}`), &big); err != nil {
		t.Fatal(err)
	}
	if err := CheckCompiles("/snapshotSchema", big); err == nil || !strings.Contains(err.Error(), "more than the 2000 accepted") {
		t.Errorf("CheckCompiles of %d subschemas: %v", MaxSubschemas+1, err)
	}
	raw, _ := json.Marshal(big)
	s := &Schema{Definitions: map[string]json.RawMessage{"snapshotDefinition": raw, "repositoryDefinition": json.RawMessage(`{"type": "object"}`)}}
	if ps := s.ValidateValue("snapshotDefinition", map[string]any{}); len(ps) != 1 || !strings.Contains(ps[0].Message, "more than the 2000 accepted") {
		t.Errorf("validating against %d subschemas: %v", MaxSubschemas+1, ps)
	}
	var deep any = "leaf"
	for range MaxValueDepth {
		deep = map[string]any{"a": deep}
	}
	if ps := s.ValidateValue("repositoryDefinition", deep); len(ps) != 1 || !strings.Contains(ps[0].Message, "nests 101 levels deep") {
		t.Errorf("a value nested %d deep: %v", MaxValueDepth+1, ps)
	}
	if ps := s.ValidateValue("repositoryDefinition", deep.(map[string]any)["a"]); len(ps) != 0 {
		t.Errorf("a value nested %d deep: %v", MaxValueDepth, ps)
	}
}

// TestPatternsBounded: a schema's regular expressions are checked before
// anything compiles them: megabytes of pattern took seconds to compile,
// and a compiled program of thousands of instructions makes each match of
// a long value as slow.
func TestPatternsBounded(t *testing.T) {
	for _, c := range []struct {
		schema, want string
	}{
		{`{"type": "string", "pattern": "` + strings.Repeat("ab|", 300000) + `c"}`, "more than the 4096 accepted"},
		{`{"type": "object", "properties": {"x": {"pattern": "(a?){1000}a{1000}"}}}`, "instructions, more than the 2000 accepted"},
		{`{"type": "object", "patternProperties": {"` + strings.Repeat("[a-z]{1000}", 3) + `": {}}}`, "instructions, more than the 2000 accepted"},
	} {
		var v any
		if err := json.Unmarshal([]byte(c.schema), &v); err != nil {
			t.Fatal(err)
		}
		if err := CheckCompiles("/snapshotSchema", v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.80s: %v", c.schema, err)
		}
		s := &Schema{Definitions: map[string]json.RawMessage{"snapshotDefinition": json.RawMessage(c.schema)}}
		if ps := s.ValidateValue("snapshotDefinition", "x"); len(ps) != 1 || !strings.Contains(ps[0].Message, c.want) {
			t.Errorf("%.80s: validation gave %v", c.schema, ps)
		}
	}
	var ok any
	json.Unmarshal([]byte(`{"type": "string", "pattern": "^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$", "default": {"pattern": 1}}`), &ok)
	if err := CheckCompiles("/snapshotSchema", ok); err != nil {
		t.Errorf("a usual pattern: %v", err)
	}
}
