package project

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// write makes a project of config and schema in a new directory (with
// src/) and returns the config's path.
func write(t *testing.T, config, schema string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"plugin_config.yml": config, "schema.json": schema} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "plugin_config.yml")
}

const goodConfig = `id: 16bef554-9470-11e9-b2e3-8c8590d4a42c
name: p
language: GO
hostTypes: [UNIX]
pluginType: STAGED
entryPoint: plugin_runner:plugin
srcDir: src
schemaFile: schema.json
`

// TestUncheckedThenCheck: LoadUnchecked gives Load's config and schema
// without the problems of the JSON Schema checks, and its Check gives
// exactly Load's problems; the bytes are those of the files.
func TestUncheckedThenCheck(t *testing.T) {
	for _, c := range []struct{ name, config, schema string }{
		// pluginType only the config's JSON Schema refuses; a schema
		// without its definitions and a wrong type.
		{"both wrong", goodConfig[:len(goodConfig)-len("schemaFile: schema.json\n")] + "schemaFile: schema.json\nrootSquashEnabled: maybe\n",
			`{"repositoryDefinition": {"type": "objet"}}`},
		{"schema warning", goodConfig, `{"repositoryDefinition": {"type": "object", "properties": {"name": {"type": "string"}}, "nameField": "nosuch", "identityFields": ["name"]}}`},
		{"no schema file", goodConfig[:len(goodConfig)-len("schema.json\n")] + "nosuch.json\n", `{}`},
		{"not YAML", "id: [", `{}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := write(t, c.config, c.schema)
			full := Load(path)
			un := LoadUnchecked(path)
			if un.Checked || !full.Checked {
				t.Fatalf("Checked: unchecked %v, full %v", un.Checked, full.Checked)
			}
			if string(un.ConfigData) != c.config || (full.Schema != nil && string(full.SchemaData) != c.schema) {
				t.Errorf("the bytes are not the files'")
			}
			if !reflect.DeepEqual(un.Config, full.Config) || (un.Schema == nil) != (full.Schema == nil) ||
				(un.Schema != nil && !reflect.DeepEqual(un.Schema.Definitions, full.Schema.Definitions)) {
				t.Errorf("the unchecked load has another config or schema")
			}
			checked := un.Check()
			if checked.Problems.String() != full.Problems.String() || !checked.Checked {
				t.Errorf("Check:\n%v\nLoad:\n%v", checked.Problems, full.Problems)
			}
			if c.name != "not YAML" && c.name != "no schema file" && len(un.Problems) >= len(full.Problems) {
				t.Errorf("the unchecked load has the checks' problems: %v", un.Problems)
			}
			if checked.Check() != checked {
				t.Errorf("Check of a checked project checks again")
			}
		})
	}
}
