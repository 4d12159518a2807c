package build

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/config"
	"github.com/dvpkit/dvp/internal/schema"
)

// TestArtifactOfPublicShapes assembles the artifact of the projects under
// testdata/build/public-shapes (no plugin is compiled) and holds it to the
// bytes dvp 5.0.1 writes for the same plugin_config.yml and schema.json
// (docs/compatibility.md, "The artifact"): artifact.golden.json was made
// with dvp's field mapping and Python's json.dump(indent=4), with
// sourceCode the empty ZIP and this manifest. "full" sets every optional
// key of plugin_config.yml the way public plugins write them (a STAGED
// WINDOWS plugin, manualDiscovery false, rootSquashEnabled no, a locale,
// Lua keys, a build number with leading and trailing zeros) and has a
// schema.json with public plugins' constructs: several identity fields,
// dxFormProperties, local and platform $refs, a duplicate key, non-ASCII
// text, a default beyond 64 bits; "minimal" has an empty name, no host
// type and an empty externalVersion, which dvp leaves out.
func TestArtifactOfPublicShapes(t *testing.T) {
	for _, name := range []string{"full", "minimal"} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join("..", "..", "testdata", "build", "public-shapes", name)
			dir := t.TempDir()
			for _, f := range []string{"plugin_config.yml", "schema.json"} {
				data, err := os.ReadFile(filepath.Join(src, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Mkdir(filepath.Join(dir, "src"), 0o755); err != nil {
				t.Fatal(err)
			}
			cfg, probs := config.Load(filepath.Join(dir, "plugin_config.yml"))
			if probs.HasErrors() {
				t.Fatalf("plugin_config.yml: %v", probs)
			}
			sch, probs := schema.Load(cfg.SchemaPath)
			if probs.HasErrors() {
				t.Fatalf("schema.json: %v", probs)
			}
			m := &artifact.PluginManifest{Type: artifact.TypeManifest, MigrationIDList: []string{"1", "2019.4.1"}}
			a, probs := newArtifact(cfg, sch, m)
			if len(probs) != 0 {
				t.Fatalf("newArtifact: %v", probs)
			}
			a.SourceCode = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==" // dvp's empty ZIP
			got, err := artifact.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(src, "artifact.golden.json"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("the artifact differs from dvp's:\n got: %s\nwant: %s", got, want)
			}
		})
	}
}
