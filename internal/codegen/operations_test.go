package codegen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The typed operations of the dvp init schema, for each plugin type, are
// kept as golden files (refresh with -update).
var operationsGoldenRoot = filepath.Join("..", "..", "testdata", "codegen-operations")

func initDefinitions(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "templates", "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var defs map[string]json.RawMessage
	if err := json.Unmarshal(data, &defs); err != nil {
		t.Fatal(err)
	}
	return defs
}

func TestOperationsGolden(t *testing.T) {
	defs := initDefinitions(t)
	for _, pt := range []string{"DIRECT", "STAGED"} {
		t.Run(pt, func(t *testing.T) {
			res, err := Generate(defs, Options{PluginType: pt})
			if err != nil {
				t.Fatal(err)
			}
			got, ok := res.Files[OperationsFile]
			if !ok {
				t.Fatalf("no %s", OperationsFile)
			}
			golden := filepath.Join(operationsGoldenRoot, pt+".go.golden")
			if *update {
				os.MkdirAll(operationsGoldenRoot, 0o755)
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("%s differs from %s (run with -update after checking the change)", OperationsFile, golden)
			}
			src := string(got)
			staged := []string{"StartStaging func", "StopStaging func", "Worker func", "Status func(ctx context.Context, stagedSource", "MountSpecification func(ctx context.Context, stagedSource"}
			for _, s := range staged {
				if strings.Contains(src, s) != (pt == "STAGED") {
					t.Errorf("%s: %q present = %v", pt, s, !(pt == "STAGED"))
				}
			}
			if pt == "DIRECT" && !strings.Contains(src, "PreSnapshot func(ctx context.Context, directSource sdk.DirectSource[LinkedSourceDefinition], repository RepositoryDefinition, sourceConfig SourceConfigDefinition, snapshotParameters *SnapshotParametersDefinition) error") {
				t.Errorf("DIRECT pre-snapshot signature missing")
			}
		})
	}
}

func TestOperationsOnlyWithPluginType(t *testing.T) {
	defs := initDefinitions(t)
	res, err := Generate(defs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Files[OperationsFile]; ok {
		t.Fatalf("%s generated without a plugin type", OperationsFile)
	}
	if _, err := Generate(defs, Options{PluginType: "staged"}); err == nil || !strings.Contains(err.Error(), "not DIRECT or STAGED") {
		t.Fatalf("lower-case plugin type: %v", err)
	}
}
