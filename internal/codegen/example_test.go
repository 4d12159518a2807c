package codegen_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/dvpkit/dvp/internal/codegen"
)

// Generate turns the six definitions of a schema.json into the files of
// the generated package; WriteDir replaces the package directory with them
// atomically, and Stale tells whether it differs from them (dvp build -g
// --check).
func ExampleGenerate() {
	object := json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {}}`)
	defs := map[string]json.RawMessage{}
	for _, key := range codegen.Definitions {
		defs[key] = object
	}
	defs["repositoryDefinition"] = json.RawMessage(`{"type": "object", "properties": {"name": {"type": "string"}}, "nameField": "name", "identityFields": ["name"]}`)
	srcDir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(srcDir)

	// defs: map[definition key]json.RawMessage for the six keys of a valid schema.json
	res, err := codegen.Generate(defs, codegen.Options{Package: "generated", SchemaFile: "schema.json"})
	// err:  *codegen.Error (a diag.List with a JSON pointer per problem) when the schema cannot become Go
	// res.Files: file name -> gofmt'd source; res.Warnings: diag.List (File = SchemaFile, Pointer set)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir := filepath.Join(srcDir, "generated")
	if err := codegen.WriteDir(dir, res.Files); err != nil { // atomic replace
		fmt.Println(err)
		return
	}
	stale, err := codegen.Stale(dir, res.Files) // for `dvp build -g --check`
	fmt.Println(stale, err)

	names := make([]string, 0, len(res.Files))
	for name := range res.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	fmt.Println(names, len(res.Warnings))
	// Output:
	// false <nil>
	// [doc.go linked_source_definition.go repository_definition.go snapshot_definition.go snapshot_parameters_definition.go source_config_definition.go virtual_source_definition.go] 0
}
