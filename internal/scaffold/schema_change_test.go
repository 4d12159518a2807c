package scaffold

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dvpkit/dvp/internal/codegen"
	"github.com/dvpkit/dvp/internal/project"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// TestScaffoldCompilesAfterSchemaChange: the plugin dvp init writes still
// compiles (with its test) when schema.json is replaced by one shaped like
// a published plugin's, whose repository and source config have other
// properties and whose source config's nameField (dbName) is required, as
// dvp's Python template still builds against any schema
// (docs/codegen.md, What is generated). It type-checks only (go vet), no
// link.
func TestScaffoldCompilesAfterSchemaChange(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks a plugin")
	}
	root := t.TempDir()
	if _, err := Init(Options{Root: root, Name: "swapped", PluginType: protocol.PluginTypeStaged, HostType: Unix}); err != nil {
		t.Fatal(err)
	}
	shapes, err := os.ReadFile(filepath.Join("..", "..", "testdata", "build", "public-shapes", "full", "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, SchemaFile), shapes, 0o644); err != nil {
		t.Fatal(err)
	}
	p := project.Load(filepath.Join(root, ConfigFile))
	if !p.Valid() {
		t.Fatalf("invalid project: %v", p.Problems)
	}
	res, err := codegen.Generate(p.Schema.Definitions, codegen.Options{Package: GeneratedDir, SchemaFile: SchemaFile, PluginType: p.Config.PluginType})
	if err != nil {
		t.Fatal(err)
	}
	if err := codegen.WriteDir(filepath.Join(root, SrcDir, GeneratedDir), res.Files); err != nil {
		t.Fatal(err)
	}
	if out, err := goCmd(t, filepath.Join(root, SrcDir), goEnv(t), "vet", "-trimpath", "./..."); err != nil {
		t.Fatalf("go vet: %v\n%s", err, out)
	}
}
