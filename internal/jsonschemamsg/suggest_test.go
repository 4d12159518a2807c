package jsonschemamsg

import "testing"

func TestSuggest(t *testing.T) {
	keys := []string{"srcDir", "schemaFile", "buildNumber"}
	for in, want := range map[string]string{"srcdir": "srcDir", "schemFile": "schemaFile", "buildNumbr": "buildNumber", "xyz": ""} {
		if got := Suggest(in, keys, 2); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
