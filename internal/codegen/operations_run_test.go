package codegen

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// operationsProgram runs the generated operations of the public-shapes
// schema through the SDK runtime, as an engine's call runs them, and prints
// each answer: one line of JSON per call.
const operationsProgram = `package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/runtime"
	"github.com/dvpkit/dvp/sdk/types"

	"example.com/ops/generated"
)

func main() {
	p := generated.Plugin{
		Discovery: generated.DiscoveryOperations{
			Repository: func(ctx context.Context, _ sdk.RemoteConnection) ([]generated.RepositoryDefinition, error) {
				return []generated.RepositoryDefinition{generated.NewRepositoryDefinition("pg"), {Port: types.Ptr[int64](70000)}}, nil
			},
			SourceConfig: func(ctx context.Context, _ sdk.RemoteConnection, r generated.RepositoryDefinition) ([]generated.SourceConfigDefinition, error) {
				return []generated.SourceConfigDefinition{{DBName: "not a name!", Port: 5432}}, nil
			},
		},
	}.Runtime()
	conn := ` + "`" + `{"environment":{"name":"e","reference":"UNIX_HOST_ENVIRONMENT-1","host":{"name":"h","reference":"UNIX_HOST-1","binary_path":"","scratch_path":""}},"user":{"name":"u","reference":"HOST_USER-1"}}` + "`" + `
	for _, c := range []struct{ op, input string }{
		{"discovery.repository", ` + "`" + `{"source_connection":` + "`" + ` + conn + ` + "`" + `}` + "`" + `},
		{"discovery.source_config", ` + "`" + `{"source_connection":` + "`" + ` + conn + ` + "`" + `,"repository":{"name":"pg"}}` + "`" + `},
		{"discovery.source_config", ` + "`" + `{"source_connection":` + "`" + ` + conn + ` + "`" + `,"repository":{"Name":"pg","port":"5432"}}` + "`" + `},
	} {
		out, err := runtime.Invoke(context.Background(), p, c.op, json.RawMessage(c.input))
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		b, _ := json.Marshal(map[string]string{"op": c.op, "out": string(out), "err": msg})
		fmt.Println(string(b))
	}
}
`

// The generated operations, compiled and run: a returned object that fails
// its definition's constraints is refused naming the operation, the item,
// the definition and the JSON pointer of each problem; an input the
// generated types reject names the pointer from the input's top.
func TestGeneratedOperationsReportWhatIsWrong(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a plugin")
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := os.ReadFile(filepath.Join(root, "testdata", "codegen", "public_plugin_shapes", "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var defs map[string]json.RawMessage
	if err := json.Unmarshal(schema, &defs); err != nil {
		t.Fatal(err)
	}
	for _, k := range Definitions {
		if _, ok := defs[k]; !ok {
			defs[k] = json.RawMessage(defaultDefinition)
		}
	}
	res, err := Generate(defs, Options{PluginType: "STAGED"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	goMod := fmt.Sprintf("module example.com/ops\n\ngo 1.25\n\nrequire github.com/dvpkit/dvp/sdk v0.0.0-dvp\n\nreplace github.com/dvpkit/dvp/sdk => %s\n", filepath.Join(root, "sdk"))
	files := map[string][]byte{"go.mod": []byte(goMod), "main.go": []byte(operationsProgram)}
	for name, b := range res.Files {
		files[filepath.Join("generated", name)] = b
	}
	for name, b := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "run", "-trimpath", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOWORK=off", "GOSUMDB=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	want := []string{
		"The returned object for the discovery.repository() operation (item 1) does not satisfy repositoryDefinition of the plugin's schema: /port: must be <= 65535 (got 70000)",
		"The returned object for the discovery.source_config() operation (item 0) does not satisfy sourceConfigDefinition of the plugin's schema: /dbName: must match the pattern \"^[A-Za-z_][A-Za-z0-9_]*$\"",
		"/repository/port: expected integer, got string",
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(want) {
		t.Fatalf("answers:\n%s", out)
	}
	for i, line := range lines {
		var got map[string]string
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if !strings.Contains(got["err"], want[i]) {
			t.Errorf("%s: error %q\nwant it to hold %q", got["op"], got["err"], want[i])
		}
	}
}
