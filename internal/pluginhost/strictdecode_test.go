package pluginhost

import (
	"testing"
)

// A compiled plugin that decodes its inputs into its own plain structs (the
// staged test plugin: runtime.Adapt over structs with json tags, no
// generated code) gets the SDK's one decoding path, types.Unmarshal: names
// match exactly and an unknown member is refused, in the plugin's structs
// and in the SDK's types alike, where encoding/json would have matched
// "Path" to `json:"path"` and dropped "colour" without a word. Every problem
// is reported at once, each with its JSON pointer and how to fix it.
func TestPlainStructsDecodeStrictly(t *testing.T) {
	f := newFixture(t, "staged")
	conn := map[string]any{
		"environment": map[string]any{"name": "envA", "reference": "UNIX_HOST_ENVIRONMENT-1",
			"host": map[string]any{"name": "localhost", "reference": "UNIX_HOST-1", "binary_path": "", "Scratch_Path": "/tmp"}},
		"user": map[string]any{"name": "delphix", "reference": "HOST_USER-1"},
	}
	in := map[string]any{"source_connection": conn, "repository": map[string]any{"name": "r", "Path": f.dir, "colour": "red"}}
	f.fail(t, nil, "discovery.source_config", in, KindBadInput,
		"The input of the discovery.source_config() operation is invalid: "+
			`/repository/Path: property is not allowed: did you mean "path"? (main.Repository has the field Path for "path": names match exactly, case included)`+"\n"+
			`/repository/colour: property is not allowed: main.Repository has no field for it (give a field the json tag "colour" to take it)`+"\n"+
			`/source_connection/environment/host/Scratch_Path: property is not allowed: did you mean "scratch_path"? (sdk.RemoteHost has the field ScratchPath for "scratch_path": names match exactly, case included)`)

	// The same input with the names as the structs spell them runs.
	conn["environment"].(map[string]any)["host"] = map[string]any{"name": "localhost", "reference": "UNIX_HOST-1", "binary_path": "", "scratch_path": "/tmp"}
	in["repository"] = map[string]any{"name": "r", "path": f.dir}
	var configs []sourceConfigOfStaged
	f.call(t, "discovery.source_config", in, &configs)
	if len(configs) != 0 {
		t.Fatalf("source configs of an empty directory: %+v", configs)
	}

	// A value of the wrong JSON type is named by its pointer, not quoted.
	in["repository"] = map[string]any{"name": "r", "path": []string{"s3cret"}}
	pe := f.fail(t, nil, "discovery.source_config", in, KindBadInput,
		"The input of the discovery.source_config() operation is invalid: /repository/path: expected string, got array")
	if pe.Message != "The input of the discovery.source_config() operation is invalid: /repository/path: expected string, got array" {
		t.Errorf("message %q", pe.Message)
	}
}

// sourceConfigOfStaged is the staged plugin's source config.
type sourceConfigOfStaged struct {
	Path string `json:"path"`
}
