package build

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/config"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// TestManifestProblemsAtTheirFunctions: the manifest checks of a build
// report each problem of what the plugin registered at the function (a
// migration's) or the entry point (an operation) in the sources, and a
// missing required operation as a warning. It starts
// from the manifest the compiled runtime-staged fixture prints and changes
// it as the edits of TestFailuresKeepArtifact's linked cases change the
// registrations, so it checks those problems without linking a plugin per
// problem (make e2e builds each of them).
func TestManifestProblemsAtTheirFunctions(t *testing.T) {
	t.Parallel()
	needGo(t)
	dir, _ := builtFixture(t)
	printed := printedManifest(t)
	cfg, ps := config.Load(filepath.Join(dir, "plugin_config.yml"))
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	entry, ps := checkEntryPoint(cfg)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	runner := filepath.Join(dir, "src", "plugin_runner.go")

	// The fixture as it is: no problem, its migration ids.
	m, ps := checkManifest(printed, protocol.PluginTypeStaged, entry)
	if len(ps) != 0 {
		t.Fatalf("problems of the fixture's manifest: %v", ps)
	}
	if got := strings.Join(m.MigrationIDList, " "); got != "1.2 2019.4.1" {
		t.Fatalf("migration ids %q", got)
	}

	// setID changes the id of the fixture's migration of kind and type
	// whose id is old, as an edit of its registration would.
	setID := func(t *testing.T, rm *protocol.Manifest, kind string, typ sdk.MigrationType, old, id string) {
		t.Helper()
		for i, mg := range rm.Migrations {
			if mg.Kind == kind && mg.Type == typ && mg.ID == old {
				rm.Migrations[i].ID = id
				return
			}
		}
		t.Fatalf("no migration %s of kind %s and type %v in %+v", old, kind, typ, rm.Migrations)
	}
	const platform, lua = sdk.PlatformMigration, sdk.LuaMigration
	cases := []struct {
		name       string
		change     func(t *testing.T, rm *protocol.Manifest)
		pluginType string
		err        string
		line       int // in plugin_runner.go
	}{
		{"bad migration id", func(t *testing.T, rm *protocol.Manifest) {
			setID(t, rm, "snapshot", platform, "1.2", "1234.0.0.")
		}, protocol.PluginTypeStaged, `The migration id '1234.0.0.' used in the function 'main.upgradeSnapshot' does not follow the correct format '^\d+(\.\d+)*$'.`, 76},
		{"zero migration id", func(t *testing.T, rm *protocol.Manifest) {
			setID(t, rm, "snapshot", platform, "1.2", "0.0.0")
		}, protocol.PluginTypeStaged, `The migration id '0.0.0' used in the function 'main.upgradeSnapshot' cannot be used because a 0 migration id is not allowed.`, 76},
		{"duplicate migration id", func(t *testing.T, rm *protocol.Manifest) {
			setID(t, rm, "repository", platform, "2019.04.01", "5.04.000.01")
			setID(t, rm, "snapshot", platform, "1.2", "5.4.0.1")
		}, protocol.PluginTypeStaged, `The migration id '5.4.0.1' used in the function 'main.upgradeSnapshot' has the same canonical form '5.4.0.1' as another migration.`, 76},
		{"bad lua version", func(t *testing.T, rm *protocol.Manifest) {
			setID(t, rm, "repository", lua, "1.1", "1.0.patchversion")
		}, protocol.PluginTypeStaged, `The lua major minor version '1.0.patchversion' used in the function 'main.upgradeRepository' decorated by 'upgrade.repository()' does not follow the correct format '^\d+\.\d+$'.`, 72},
		{"staged-only operation in a DIRECT plugin", func(t *testing.T, rm *protocol.Manifest) {
			rm.PluginType = protocol.PluginTypeDirect
		}, protocol.PluginTypeDirect, "The operation linked.mount_specification() is not supported for DIRECT plugins.", 35},
	}
	// Required operations the plugin does not register are warnings, and
	// false in the manifest.
	t.Run("missing required operations", func(t *testing.T) {
		rm := *printed
		rm.Operations = nil
		for _, op := range printed.Operations {
			if op != "linked.mount_specification" && op != "virtual.reconfigure" {
				rm.Operations = append(rm.Operations, op)
			}
		}
		if len(rm.Operations) != len(printed.Operations)-2 {
			t.Fatalf("the fixture registers %v", printed.Operations)
		}
		m, ps := checkManifest(&rm, protocol.PluginTypeStaged, entry)
		want := []string{
			"Implementation missing for required method linked.mount_specification(). The Plugin Operation 'Staged Source Mount Specification' will fail when executed.",
			"Implementation missing for required method virtual.reconfigure(). The Plugin Operation 'Virtual Source Reconfigure' will fail when executed.",
		}
		if got := messages(ps, diag.Warning); strings.Join(got, "\n") != strings.Join(want, "\n") || ps.HasErrors() {
			t.Errorf("problems %v, want the warnings:\n%s", ps, strings.Join(want, "\n"))
		}
		if m.HasLinkedMountSpecification || m.HasVirtualReconfigure || !m.HasVirtualConfigure {
			t.Errorf("manifest %+v", m)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rm := *printed
			rm.Migrations = append([]protocol.ManifestMigration(nil), printed.Migrations...)
			c.change(t, &rm)
			_, ps := checkManifest(&rm, c.pluginType, entry)
			var hit *diag.Problem
			for i, p := range ps {
				if p.Severity == diag.Error && strings.Contains(p.Message, c.err) {
					hit = &ps[i]
				}
			}
			if hit == nil {
				t.Fatalf("no error containing %q in %v", c.err, messages(ps, diag.Error))
			}
			if hit.File != runner || hit.Line != c.line {
				t.Errorf("the problem is at %s:%d, want %s:%d", hit.File, hit.Line, runner, c.line)
			}
		})
	}
}
