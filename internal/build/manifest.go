package build

import (
	"fmt"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
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
	// In dvp's order (the manifest's), not the messages' alphabetical one.
	for _, spec := range protocol.Operations() {
		if spec.Required(pluginType) && !*manifestFlag(m, spec.ManifestKey) {
			p := at(diag.Warning, "Implementation missing for required method %s(). The Plugin Operation '%s' will fail when executed.",
				spec.Name, requiredDescriptions[spec.ManifestKey])
			p.Rank = len(ps) + 1
			ps = append(ps, p)
		}
	}
	migProblems, ids := checkMigrations(rm.Migrations, entry, file, line, col)
	ps = append(ps, migProblems...)
	if ids == nil {
		ids = []string{} // [] in every report, whether the manifest was read or reused
	}
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

// checkMigrations applies the platform's registration rules
// (protocol.CheckMigrations) to the manifest's migrations, each problem at
// its function's position in the source when known; it returns the sorted
// canonical platform migration ids.
func checkMigrations(migs []protocol.ManifestMigration, entry *entryInfo, file string, line, col int) (diag.List, []string) {
	decls := make([]protocol.MigrationDecl, len(migs))
	for i, mg := range migs {
		fn := mg.Name
		if fn == "" {
			fn = fmt.Sprintf("migration #%d", i+1)
		}
		decls[i] = protocol.MigrationDecl{Kind: mg.Kind, ID: mg.ID, Type: mg.Type, Function: fn}
	}
	found, ids := protocol.CheckMigrations(decls)
	var ps diag.List
	for _, f := range found {
		fl, l, c := file, line, col
		if pos, ok := entry.funcPosition(migs[f.Index].Name); ok {
			fl, l, c = pos.Filename, pos.Line, pos.Column
		}
		ps = append(ps, diag.Errorf(fl, l, c, "%s", f.Message))
	}
	return ps, ids
}
