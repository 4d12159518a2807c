package build

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// requiredDescriptions are the names of the required operations in the
// warning about a missing one (docs/build.md, manifest checks; without the YAML's trailing
// commas).
var requiredDescriptions = map[string]string{
	"hasRepositoryDiscovery":       "Repository Discovery",
	"hasSourceConfigDiscovery":     "Source Config Discovery",
	"hasLinkedPostSnapshot":        "Linked Source Post Snapshot",
	"hasLinkedMountSpecification":  "Staged Source Mount Specification",
	"hasVirtualConfigure":          "Virtual Source Configure",
	"hasVirtualReconfigure":        "Virtual Source Reconfigure",
	"hasVirtualPostSnapshot":       "Virtual Source Post Snapshot",
	"hasVirtualMountSpecification": "Virtual Source Mount Specification",
}

// manifestFlag returns the field of m for a manifest key.
func manifestFlag(m *artifact.PluginManifest, key string) *bool {
	switch key {
	case "hasRepositoryDiscovery":
		return &m.HasRepositoryDiscovery
	case "hasSourceConfigDiscovery":
		return &m.HasSourceConfigDiscovery
	case "hasLinkedPreSnapshot":
		return &m.HasLinkedPreSnapshot
	case "hasLinkedPostSnapshot":
		return &m.HasLinkedPostSnapshot
	case "hasLinkedStartStaging":
		return &m.HasLinkedStartStaging
	case "hasLinkedStopStaging":
		return &m.HasLinkedStopStaging
	case "hasLinkedStatus":
		return &m.HasLinkedStatus
	case "hasLinkedWorker":
		return &m.HasLinkedWorker
	case "hasLinkedMountSpecification":
		return &m.HasLinkedMountSpecification
	case "hasLinkedSourceSize":
		return &m.HasLinkedSourceSize
	case "hasVirtualConfigure":
		return &m.HasVirtualConfigure
	case "hasVirtualUnconfigure":
		return &m.HasVirtualUnconfigure
	case "hasVirtualReconfigure":
		return &m.HasVirtualReconfigure
	case "hasVirtualCleanup":
		return &m.HasVirtualCleanup
	case "hasVirtualStart":
		return &m.HasVirtualStart
	case "hasVirtualStop":
		return &m.HasVirtualStop
	case "hasVirtualPreSnapshot":
		return &m.HasVirtualPreSnapshot
	case "hasVirtualPostSnapshot":
		return &m.HasVirtualPostSnapshot
	case "hasVirtualMountSpecification":
		return &m.HasVirtualMountSpecification
	case "hasVirtualStatus":
		return &m.HasVirtualStatus
	case "hasInitialize":
		return &m.HasInitialize
	case "hasVirtualSourceSize":
		return &m.HasVirtualSourceSize
	}
	return nil
}

// checkManifest turns what the compiled plugin registered into the
// artifact's manifest (docs/build.md, manifest checks) and checks it: operations that do not
// exist for the plugin type and the migration rules are
// errors, a missing required operation is a warning.
func checkManifest(rm *protocol.Manifest, pluginType string, entry *entryInfo) (*artifact.PluginManifest, diag.List) {
	var ps diag.List
	file, line, col := "", 0, 0
	if entry != nil {
		file, line, col = entry.File, entry.Line, entry.Col
	}
	at := func(sev diag.Severity, format string, args ...any) diag.Problem {
		return diag.Problem{File: file, Line: line, Column: col, Severity: sev, Message: fmt.Sprintf(format, args...)}
	}
	m := &artifact.PluginManifest{Type: artifact.TypeManifest, MigrationIDList: []string{}}
	if rm.PluginType != pluginType {
		p := at(diag.Error, "the compiled plugin is a %s plugin, but plugin_config.yml says pluginType %s", rm.PluginType, pluginType)
		p.Hint = "the generated code is stale or the plugin does not use it: run 'dvp build' again after fixing the plugin's registration"
		ps = append(ps, p)
	}
	for _, name := range rm.Operations {
		spec, ok := protocol.LookupOperation(name)
		switch {
		case !ok:
			ps = append(ps, at(diag.Error, "'%s' is not a plugin operation.", name))
		case !spec.Supports(pluginType):
			ps = append(ps, at(diag.Error, "The operation %s() is not supported for %s plugins.", name, pluginType))
		default:
			*manifestFlag(m, spec.ManifestKey) = true
		}
	}
	for _, spec := range protocol.Operations() {
		if spec.Required(pluginType) && !*manifestFlag(m, spec.ManifestKey) {
			ps = append(ps, at(diag.Warning, "Implementation missing for required method %s(). The Plugin Operation '%s' will fail when executed.",
				spec.Name, requiredDescriptions[spec.ManifestKey]))
		}
	}
	migProblems, ids := checkMigrations(rm.Migrations, entry, file, line, col)
	ps = append(ps, migProblems...)
	m.MigrationIDList = ids
	// The plugin's own registration checks (the SDK's): add those dvp did
	// not already report in its own words.
	for _, e := range rm.Errors {
		if strings.HasPrefix(e, "The migration") || strings.HasPrefix(e, "The lua major minor version") {
			continue
		}
		dup := false
		for _, p := range ps {
			if p.Message == e {
				dup = true
			}
		}
		if !dup {
			ps = append(ps, at(diag.Error, "%s", e))
		}
	}
	return m, ps
}

// checkMigrations applies the migration rules (docs/build.md) to the registered migrations and
// returns the sorted canonical ids of the platform migrations.
func checkMigrations(migs []protocol.ManifestMigration, entry *entryInfo, file string, line, col int) (diag.List, []string) {
	var ps diag.List
	seen := map[string]bool{}
	seenLua := map[string]map[string]bool{}
	ids := []string{}
	for i, mg := range migs {
		fn := mg.Name
		if fn == "" {
			fn = fmt.Sprintf("migration #%d", i+1)
		}
		f, l, c := file, line, col
		if pos, ok := entry.funcPosition(mg.Name); ok {
			f, l, c = pos.Filename, pos.Line, pos.Column
		}
		fail := func(format string, args ...any) {
			ps = append(ps, diag.Errorf(f, l, c, format, args...))
		}
		if !slices.Contains(protocol.UpgradeKinds, mg.Kind) {
			fail("The migration '%s' used in the function '%s' has the kind '%s', which is not one of %s.", mg.ID, fn, mg.Kind, strings.Join(protocol.UpgradeKinds, ", "))
			continue
		}
		switch mg.Type {
		case sdk.PlatformMigration:
			if !protocol.DottedNumberPattern().MatchString(mg.ID) {
				fail("The migration id '%s' used in the function '%s' does not follow the correct format '^\\d+(\\.\\d+)*$'.", mg.ID, fn)
				continue
			}
			canon, err := protocol.CanonicalMigrationID(mg.ID)
			if err != nil {
				fail("The migration id '%s' used in the function '%s' cannot be used because a 0 migration id is not allowed.", mg.ID, fn)
				continue
			}
			if seen[canon] {
				fail("The migration id '%s' used in the function '%s' has the same canonical form '%s' as another migration.", mg.ID, fn, canon)
				continue
			}
			seen[canon] = true
			ids = append(ids, canon)
		case sdk.LuaMigration:
			if !protocol.LuaVersionPattern().MatchString(mg.ID) {
				fail("The lua major minor version '%s' used in the function '%s' decorated by 'upgrade.%s()' does not follow the correct format '^\\d+\\.\\d+$'.", mg.ID, fn, mg.Kind)
				continue
			}
			canon, _ := protocol.CanonicalLuaVersion(mg.ID)
			if seenLua[mg.Kind] == nil {
				seenLua[mg.Kind] = map[string]bool{}
			}
			if seenLua[mg.Kind][canon] {
				fail("The lua major minor version '%s' used in the function '%s' decorated by 'upgrade.%s()' has already been used.", mg.ID, fn, mg.Kind)
				continue
			}
			seenLua[mg.Kind][canon] = true
		default:
			fail("The migration '%s' used in the function '%s' has the migration type %d, which is not supported.", mg.ID, fn, int(mg.Type))
		}
	}
	slices.SortFunc(ids, protocol.CompareMigrationIDs)
	return ps, ids
}
