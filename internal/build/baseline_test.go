package build

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// TestCheckBaselineProblems: the upgrade checks of dvp build --baseline
// against the artifact of the built runtime-staged fixture as the released
// build, with the changes TestBaseline (make e2e) makes to the project and
// links: a lower build number and a dropped migration are errors, a schema
// change without a new migration of its kind a warning, with one nothing.
func TestCheckBaselineProblems(t *testing.T) {
	t.Parallel()
	needGo(t)
	dir, _ := builtFixture(t)
	released := filepath.Join(dir, "artifact.json")
	configPath := filepath.Join(dir, "plugin_config.yml")
	migs := printedManifest(t).Migrations
	next := func(t *testing.T) *artifact.Artifact {
		t.Helper()
		f, err := os.Open(released)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		a, err := artifact.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	if ps := checkBaseline(released, next(t), migs, configPath); len(ps) != 0 {
		t.Errorf("the same build as its own baseline: %v", ps)
	}

	t.Run("lower build, dropped migration", func(t *testing.T) {
		a := next(t)
		a.BuildNumber = "1.9"
		a.Manifest.MigrationIDList = slices.DeleteFunc(slices.Clone(a.Manifest.MigrationIDList), func(id string) bool { return id == "1.2" })
		dropped := slices.DeleteFunc(slices.Clone(migs), func(m protocol.ManifestMigration) bool { return m.ID == "1.2" })
		if len(dropped) != len(migs)-1 || len(a.Manifest.MigrationIDList) != 1 {
			t.Fatalf("the fixture's migrations: %+v, ids %v", migs, a.Manifest.MigrationIDList)
		}
		ps := checkBaseline(released, a, dropped, configPath)
		errs := strings.Join(messages(ps, diag.Error), "\n")
		for _, want := range []string{"build 1.9 is older than the installed build 2", `the installed build 2 has the migration id "1.2", which this build drops`} {
			if !strings.Contains(errs, want) {
				t.Errorf("errors %q lack %q", errs, want)
			}
		}
		for _, p := range ps {
			if strings.Contains(p.Message, "build 1.9 is older") && p.File != configPath {
				t.Errorf("the build number's error is at %s, want %s", p.File, configPath)
			}
		}
	})

	t.Run("schema change", func(t *testing.T) {
		a := next(t)
		a.DiscoveryDefinition.RepositorySchema = []byte(`{"type": "object", "properties": {"name": {"type": "string"}, "version": {"type": "string"}}}`)
		ps := checkBaseline(released, a, migs, configPath)
		warns := messages(ps, diag.Warning)
		if len(warns) != 1 || ps.HasErrors() || !strings.Contains(warns[0], "repositoryDefinition changed since build 2, but the plugin has no new migration for upgrade.repository()") {
			t.Errorf("problems %v", ps)
		}
		// With a new migration of its kind, nothing.
		a.Manifest.MigrationIDList = append(slices.Clone(a.Manifest.MigrationIDList), "2020.1")
		more := append(slices.Clone(migs), protocol.ManifestMigration{Kind: protocol.KindRepository, ID: "2020.1", Type: sdk.PlatformMigration, Name: "main.upgradeRepository"})
		if ps := checkBaseline(released, a, more, configPath); len(ps) != 0 {
			t.Errorf("with a new repository migration: %v", ps)
		}
	})
}
