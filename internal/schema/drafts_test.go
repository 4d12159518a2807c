package schema

import (
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// The JSON Schema library is a patched copy whose meta-schemas compile on
// first use (third_party/jsonschema/PATCH.md). Every draft's meta-schema must
// still load and still reject an invalid schema, concurrently too.
func TestEveryDraftMetaSchemaLoadsOnFirstUse(t *testing.T) {
	drafts := []string{
		"http://json-schema.org/draft-04/schema#",
		"http://json-schema.org/draft-06/schema#",
		"http://json-schema.org/draft-07/schema#",
		"https://json-schema.org/draft/2019-09/schema",
		"https://json-schema.org/draft/2020-12/schema",
	}
	for _, d := range drafts {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			good := `{"$schema": "` + d + `", "type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}`
			c := jsonschema.NewCompiler()
			if err := c.AddResource("https://dvp.invalid/good.json", strings.NewReader(good)); err != nil {
				t.Fatal(err)
			}
			s, err := c.Compile("https://dvp.invalid/good.json")
			if err != nil {
				t.Fatalf("a valid schema does not compile: %v", err)
			}
			if err := s.Validate(map[string]any{"a": "x"}); err != nil {
				t.Errorf("a valid instance is refused: %v", err)
			}
			if err := s.Validate(map[string]any{}); err == nil {
				t.Error("an instance without the required property is accepted")
			}
			bad := `{"$schema": "` + d + `", "type": 12}`
			c = jsonschema.NewCompiler()
			if err := c.AddResource("https://dvp.invalid/bad.json", strings.NewReader(bad)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Compile("https://dvp.invalid/bad.json"); err == nil {
				t.Error(`{"type": 12} compiles: the draft's meta-schema was not applied`)
			}
		})
	}
}
