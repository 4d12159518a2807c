package schema

import (
	"strings"
	"testing"
)

// A schema.json cut short gets a hint about its end, not about quotes or
// commas where none is missing; a syntax error inside the file keeps the
// hint for its kind.
func TestSyntaxHintAtEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ data, hint string }{
		{"{", "ends before its JSON is complete"},
		{"{\n  \"a\": 1,\n\n", "ends before its JSON is complete"},
		{"{\"a\": ", "ends before its JSON is complete"},
		{"{\"a\": [1, 2", "ends before its JSON is complete"},
		{"", "ends before its JSON is complete"},
		{"{\"a\": 1,}", "JSON keys need double quotes"},
		{"{\"a\": 1 \"b\": 2}", "separate members and items with commas"},
		{"{} {}", "remove what follows it"},
		{"{\"a\": \"x", "close the string"},
	} {
		_, probs := Parse("schema.json", []byte(tc.data))
		if len(probs) != 1 || !strings.Contains(probs[0].Hint, tc.hint) {
			t.Errorf("Parse(%q): got %v, want one problem whose hint has %q", tc.data, probs, tc.hint)
		}
	}
}
