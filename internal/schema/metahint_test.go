package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

// A linked or virtual source definition written as true or false passes
// the draft-07 rules and fails dvp's recordSizeInKB rule, which wants an
// object: the hint says that, not how to type recordSizeInKB.
func TestHintBooleanSourceDefinition(t *testing.T) {
	t.Parallel()
	doc := map[string]any{
		"repositoryDefinition":         map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}, "nameField": "name", "identityFields": []string{"name"}},
		"sourceConfigDefinition":       map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}, "nameField": "name", "identityFields": []string{"name"}},
		"virtualSourceDefinition":      false,
		"linkedSourceDefinition":       true,
		"snapshotDefinition":           map[string]any{"type": "object"},
		"snapshotParametersDefinition": map[string]any{"type": "object"},
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, probs := Parse("schema.json", data)
	want := map[string]string{
		"/virtualSourceDefinition": "False is not of type 'object'",
		"/linkedSourceDefinition":  "True is not of type 'object'",
	}
	if len(probs) != len(want) {
		t.Fatalf("got %v, want two problems", probs)
	}
	for _, p := range probs {
		def := strings.TrimPrefix(p.Pointer, "/")
		if want[p.Pointer] != p.Message || !strings.Contains(p.Hint, def+" must be a JSON object") || strings.Contains(p.Hint, "recordSizeInKB") {
			t.Errorf("%s: %q (hint %q); want %q and a hint that it must be an object", p.Pointer, p.Message, p.Hint, want[p.Pointer])
		}
	}
}
