package core

// The upgrade guard (docs/engine.md, "The upgrade guard"): an upload that
// replaces a plugin's build — a newer or the same build number, with or
// without migrations — is refused when a stored object of the plugin
// (after the new build's migrations, if any) does not match the new
// build's schemas, because every later operation on that object would
// fail. Nothing changes: the installed build and every object stay as
// they were.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/schema"
)

// storedObjectProblems validates the plugin-defined values of objects
// (repository and source config parameters, dSource and VDB parameters,
// snapshot metadata) against the definitions of schemas. Each problem
// names the object (File) and the JSON pointer of the value in the
// object's document (Pointer: /parameters/..., /metadata/...).
func storedObjectProblems(objs []store.StoredObject, schemas *schema.Schema) diag.List {
	var out diag.List
	for _, o := range objs {
		var head struct {
			Name          string `json:"name"`
			ContainerType string `json:"containerType"`
		}
		_ = json.Unmarshal(o.Doc, &head)
		for _, mk := range migrationKinds {
			if mk.kind != o.Kind || (mk.containerType != "" && mk.containerType != head.ContainerType) {
				continue
			}
			var fields map[string]json.RawMessage
			if json.Unmarshal(o.Doc, &fields) != nil {
				continue
			}
			val := fields[mk.field]
			if len(val) == 0 || string(val) == "null" {
				continue // a snapshot whose post-snapshot returned nothing
			}
			dec := json.NewDecoder(bytes.NewReader(val))
			dec.UseNumber()
			var v any
			if dec.Decode(&v) != nil {
				continue
			}
			what := objectWhat(o.Kind, head.ContainerType, head.Name, store.ObjectRef(o.Kind, o.ID))
			for _, p := range schemas.ValidateValue(mk.definition, v) {
				out = append(out, diag.Problem{File: what, Pointer: "/" + mk.field + p.Pointer, Severity: diag.Error,
					Message: p.Message + " (" + mk.definition + ")", Hint: p.Hint})
			}
		}
	}
	return out
}

// objectWhat names a stored object in a message: its reference, its kind
// and its name.
func objectWhat(kind, containerType, name, ref string) string {
	noun := map[string]string{store.KindRepository: "repository", store.KindSourceConfig: "source config", store.KindSnapshot: "snapshot"}[kind]
	if kind == store.KindContainer {
		noun = containerNames[containerType]
		if noun == "" {
			noun = "container"
		}
	}
	if name == "" || name == ref || kind == store.KindSnapshot {
		return fmt.Sprintf("%s %s", noun, ref)
	}
	return fmt.Sprintf("%s %s (%q)", noun, ref, name)
}

// upgradeGuardRefusal is the refusal of an upload of a whose schemas the
// stored objects do not match (nil when they all match).
func upgradeGuardRefusal(old, a *artifact.Artifact, ps diag.List) *Error {
	if len(ps) == 0 {
		return nil
	}
	lines := make([]string, len(ps))
	objects := map[string]bool{}
	for i, p := range ps {
		lines[i] = "- " + p.File + " " + p.Detail()
		objects[p.File] = true
	}
	return newErr(Invalid, "exception.toolkit.upgrade.refused",
		fmt.Sprintf("Plugin %q cannot be upgraded from build %s to build %s: %d stored object(s) do not match the new build's schemas (%d problem(s)):\n%s",
			a.Name, old.BuildNumber, a.BuildNumber, len(objects), len(ps), strings.Join(lines, "\n")),
		"Keep the new schemas compatible with the stored objects (make the new properties optional), "+
			"or add a migration (a new migration id with upgrade operations) that brings the objects to the new schemas; then build and upload the plugin again.")
}

// guardProblems validates the plugin's stored objects objs against the
// schemas of the new build a (row is its toolkit row, not yet installed);
// installed is the installed row.
func (e *Engine) guardProblems(installed, row *store.Toolkit, a *artifact.Artifact, objs []store.StoredObject) diag.List {
	probe := *row
	probe.ID = installed.ID
	return storedObjectProblems(objs, e.store.PluginSchema(&probe, a))
}
