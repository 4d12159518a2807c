package core

// Data migrations on upgrade (docs/engine.md, "Upgrades migrate stored
// objects"; docs/compatibility.md, upgrade migrations). When a new build
// adds migration ids, the upgrade job runs the new build's `upgrade`
// operation on every stored object of the plugin, kind by kind, validates
// the results against the new schemas, and stores them in the transaction
// that installs the build: the upgrade and the migrated objects land
// together, or neither does.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/secrets"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/schema"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// migrationKind is a stored object kind a migration applies to: the
// protocol's kind, the field of the stored document, and the definition
// (and for containers, the container type).
type migrationKind struct {
	kind, upgradeKind, field, definition, containerType string
}

// migrationKinds are the stored object kinds a migration applies to: the
// protocol's kind, the field of the stored document, and the definition.
var migrationKinds = []migrationKind{
	{store.KindRepository, "repository", "parameters", "repositoryDefinition", ""},
	{store.KindSourceConfig, "source_config", "parameters", "sourceConfigDefinition", ""},
	{store.KindContainer, "linked_source", "parameters", "linkedSourceDefinition", engineapi.ContainerDSource},
	{store.KindContainer, "virtual_source", "parameters", "virtualSourceDefinition", engineapi.ContainerVDB},
	{store.KindSnapshot, "snapshot", "metadata", "snapshotDefinition", ""},
}

// newMigrationIDs returns the migration ids of the new build that the
// installed one did not have, in the new build's (canonical, sorted) order.
func newMigrationIDs(old, a *artifact.Artifact) []string {
	had := map[string]bool{}
	for _, id := range old.Manifest.MigrationIDList {
		had[id] = true
	}
	var ids []string
	for _, id := range a.Manifest.MigrationIDList {
		if !had[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// migrationPlan is what an upgrade stores with the new build: each
// migrated object's new document (secrets in clear, sealed on write).
type migrationPlan struct {
	toolkit        string // the toolkit's reference
	artifactSHA256 string // the build installed when the plan was made
	objects        []store.StoredObject
	newDocs        map[int64][]byte
	summary        []string
}

// planMigrations runs the new build's migrations on the plugin's stored
// objects. It changes nothing; apply stores the result.
func (e *Engine) planMigrations(ctx context.Context, j *jobs.Job, cur, row *store.Toolkit, a *artifact.Artifact, codeSum, codePath string, ids []string) (*migrationPlan, error) {
	objs, err := e.store.ToolkitObjects(ctx, cur.Ref())
	if err != nil {
		return nil, err
	}
	plan := &migrationPlan{toolkit: cur.Ref(), artifactSHA256: cur.ArtifactSHA256, objects: objs, newDocs: map[int64][]byte{}}
	if len(objs) == 0 {
		return plan, nil
	}
	bin, err := e.runner.ExtractBinary(codeSum, codePath, "build "+a.BuildNumber)
	if err != nil {
		return nil, err
	}
	probe := *row
	probe.ID = cur.ID // the objects name the installed toolkit
	run, err := e.runner.Start(probe.PluginID, a, bin, j)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	schemas := e.store.PluginSchema(&probe, a)
	for _, mk := range migrationKinds {
		in, byRef, err := migrationInput(objs, mk, ids)
		if err != nil {
			return nil, err
		}
		if len(byRef) == 0 {
			continue
		}
		var out protocol.UpgradeOutput
		if err := run.Call(ctx, "upgrade", in, &out); err != nil {
			return nil, err
		}
		if err := e.migratedDocs(plan, schemas, mk, ids, byRef, out); err != nil {
			return nil, err
		}
		plan.summary = append(plan.summary, fmt.Sprintf("%d %s", len(byRef), mk.upgradeKind))
	}
	return plan, nil
}

// migrationInput is the upgrade operation's input for the objects of objs
// of one kind (their parameters by reference), and those objects by
// reference; objects without parameters are left out.
func migrationInput(objs []store.StoredObject, mk migrationKind, ids []string) (protocol.UpgradeInput, map[string]*store.StoredObject, error) {
	in := protocol.UpgradeInput{Kind: mk.upgradeKind, MigrationIDs: ids, PreUpgradeParameters: map[string]json.RawMessage{}}
	byRef := map[string]*store.StoredObject{}
	for i := range objs {
		o := &objs[i]
		if o.Kind != mk.kind {
			continue
		}
		var head struct {
			ContainerType string `json:"containerType"`
		}
		_ = json.Unmarshal(o.Doc, &head)
		if mk.containerType != "" && head.ContainerType != mk.containerType {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(o.Doc, &fields); err != nil {
			return in, nil, err
		}
		val := fields[mk.field]
		if len(val) == 0 || string(val) == "null" {
			continue // a snapshot whose post-snapshot returned nothing
		}
		ref := store.ObjectRef(o.Kind, o.ID)
		in.PreUpgradeParameters[ref] = val
		byRef[ref] = o
	}
	return in, byRef, nil
}

// migratedDocs checks what the migrations returned for each object of
// byRef against the new build's definition and puts its new document in
// plan; an object missing or not matching fails the upgrade, naming them
// all.
func (e *Engine) migratedDocs(plan *migrationPlan, schemas *schema.Schema, mk migrationKind, ids []string, byRef map[string]*store.StoredObject, out protocol.UpgradeOutput) error {
	refs := make([]string, 0, len(byRef))
	for ref := range byRef {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	var problems []string
	for _, ref := range refs {
		val, ok := out.PostUpgradeParameters[ref]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: the migrations returned nothing for it", ref))
			continue
		}
		e.keeper.RegisterSecrets(schemas.Definitions[mk.definition], val)
		ps, _ := paramProblems(schemas, mk.definition, val)
		for _, p := range ps {
			problems = append(problems, ref+" "+problemLine(p))
		}
		o := byRef[ref]
		doc, err := secrets.SetJSON(o.Doc, []string{mk.field}, compactRaw(val))
		if err != nil {
			return err
		}
		plan.newDocs[o.ID] = doc
	}
	if len(problems) > 0 {
		return &jobError{Code: "exception.toolkit.upgrade.migration",
			Message: fmt.Sprintf("After the migrations %s, %d %s object(s) do not match the new build's %s:\n%s",
				strings.Join(ids, ", "), len(problems), mk.upgradeKind, mk.definition, strings.Join(problems, "\n")),
			Action: "Fix the plugin's upgrade." + mk.upgradeKind + " migrations so that they return objects of the new schema, then upload the plugin again."}
	}
	return nil
}

// apply stores the migrated objects in the install transaction, after the
// new toolkit row (so they are sealed under the new schemas). An object
// that changed since the migrations ran fails the upgrade.
func (p *migrationPlan) apply(s *store.Store) store.TxStep {
	inner := s.ApplyMigrated(p.toolkit, p.objects, p.newDocs)
	return func(ctx context.Context, tx *store.Tx) error {
		err := inner(ctx, tx)
		var ce *store.ChangedError
		if errors.As(err, &ce) {
			return &jobError{Code: "exception.toolkit.upgrade.conflict",
				Message: ce.What + " while the migrations ran, so the upgrade stops and nothing changes.",
				Action:  "Upload the plugin again when no job of this plugin runs."}
		}
		return err
	}
}

func compactRaw(raw json.RawMessage) []byte {
	if c, err := compactJSON(raw); err == nil {
		return c
	}
	return raw
}
