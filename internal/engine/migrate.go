package engine

// Data migrations on upgrade (reference 8.3 "Upgrade", docs/engine.md
// "Upgrades migrate stored objects"). When a new build adds migration ids,
// the upgrade job runs the new build's `upgrade` operation on every stored
// object of the plugin, kind by kind, validates the results against the new
// schemas, and stores them in the transaction that installs the build: the
// upgrade and the migrated objects land together, or neither does.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// migrationKinds are the stored object kinds a migration applies to: the
// protocol's kind, the field of the stored document, and the definition.
var migrationKinds = []struct {
	kind, upgradeKind, field, definition, containerType string
}{
	{kindRepository, "repository", "parameters", "repositoryDefinition", ""},
	{kindSourceConfig, "source_config", "parameters", "sourceConfigDefinition", ""},
	{kindContainer, "linked_source", "parameters", "linkedSourceDefinition", "DSOURCE"},
	{kindContainer, "virtual_source", "parameters", "virtualSourceDefinition", "VDB"},
	{kindSnapshot, "snapshot", "metadata", "snapshotDefinition", ""},
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

// storedObject is an object row as stored, and its document with its
// secrets put back.
type storedObject struct {
	id           int64
	kind         string
	data, sealed string // as stored, to detect a change before commit
	doc          []byte // data with the secrets put back
}

// toolkitObjects returns the stored objects of a plugin, oldest first.
func (s *store) toolkitObjects(ctx context.Context, toolkitRef string) ([]storedObject, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, data, sealed FROM objects ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedObject
	for rows.Next() {
		var o storedObject
		if err := rows.Scan(&o.id, &o.kind, &o.data, &o.sealed); err != nil {
			return nil, err
		}
		var head struct {
			Toolkit string `json:"toolkit"`
		}
		if json.Unmarshal([]byte(o.data), &head) != nil || head.Toolkit != toolkitRef {
			continue
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		o := &out[i]
		o.doc = []byte(o.data)
		if o.sealed != "" {
			if o.doc, err = s.keeper.open(o.doc, o.sealed); err != nil {
				return nil, fmt.Errorf("%s: %w", objectRef(o.kind, o.id), err)
			}
		}
	}
	return out, nil
}

// migrationPlan is what an upgrade stores with the new build: each
// migrated object's new document (secrets in clear, sealed on write).
type migrationPlan struct {
	toolkit        string // the toolkit's reference
	artifactSHA256 string // the build installed when the plan was made
	objects        []storedObject
	newDocs        map[int64][]byte
	summary        []string
}

// planMigrations runs the new build's migrations on the plugin's stored
// objects. It changes nothing; apply stores the result.
func (e *Engine) planMigrations(ctx context.Context, j *jobCtx, cur, row *toolkitRow, a *artifact.Artifact, codeSum, codePath string, ids []string) (*migrationPlan, error) {
	objs, err := e.store.toolkitObjects(ctx, cur.ref())
	if err != nil {
		return nil, err
	}
	plan := &migrationPlan{toolkit: cur.ref(), artifactSHA256: cur.ArtifactSHA256, objects: objs, newDocs: map[int64][]byte{}}
	if len(objs) == 0 {
		return plan, nil
	}
	bin, err := e.extractBinary(codeSum, codePath, "build "+a.BuildNumber)
	if err != nil {
		return nil, err
	}
	probe := *row
	probe.ID = cur.ID // the objects name the installed toolkit
	run, err := e.startPluginBinary(&probe, j, bin)
	if err != nil {
		return nil, err
	}
	defer run.close()
	schemas := pluginSchema(&probe, a)
	for _, mk := range migrationKinds {
		in := protocol.UpgradeInput{Kind: mk.upgradeKind, MigrationIDs: ids, PreUpgradeParameters: map[string]json.RawMessage{}}
		byRef := map[string]*storedObject{}
		for i := range objs {
			o := &objs[i]
			if o.kind != mk.kind {
				continue
			}
			var head struct {
				ContainerType string `json:"containerType"`
			}
			_ = json.Unmarshal(o.doc, &head)
			if mk.containerType != "" && head.ContainerType != mk.containerType {
				continue
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(o.doc, &fields); err != nil {
				return nil, err
			}
			val := fields[mk.field]
			if len(val) == 0 || string(val) == "null" {
				continue // a snapshot whose post-snapshot returned nothing
			}
			ref := objectRef(o.kind, o.id)
			in.PreUpgradeParameters[ref] = val
			byRef[ref] = o
		}
		if len(byRef) == 0 {
			continue
		}
		var out protocol.UpgradeOutput
		if err := run.call(ctx, "upgrade", in, &out); err != nil {
			return nil, err
		}
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
			e.store.keeper.registerSecrets(schemas.Definitions[mk.definition], val)
			for _, p := range paramProblems(&probe, a, mk.definition, val) {
				problems = append(problems, ref+" "+p)
			}
			o := byRef[ref]
			doc, err := setJSON(o.doc, []string{mk.field}, compactRaw(val))
			if err != nil {
				return nil, err
			}
			plan.newDocs[o.id] = doc
		}
		if len(problems) > 0 {
			return nil, &jobError{Code: "exception.toolkit.upgrade.migration",
				Message: fmt.Sprintf("After the migrations %s, %d %s object(s) do not match the new build's %s:\n%s",
					strings.Join(ids, ", "), len(problems), mk.upgradeKind, mk.definition, strings.Join(problems, "\n")),
				Action: "Fix the plugin's upgrade." + mk.upgradeKind + " migrations so that they return objects of the new schema, then upload the plugin again."}
		}
		plan.summary = append(plan.summary, fmt.Sprintf("%d %s", len(refs), mk.upgradeKind))
	}
	return plan, nil
}

func compactRaw(raw json.RawMessage) []byte {
	if c, err := compactJSON(raw); err == nil {
		return c
	}
	return raw
}

// apply stores the migrated objects in the install transaction, after the
// new toolkit row (so they are sealed under the new schemas). An object
// that changed since the migrations ran fails the upgrade.
func (p *migrationPlan) apply(s *store) installApply {
	return func(ctx context.Context, tx *sql.Tx) error {
		conflict := func(what string) error {
			return &jobError{Code: "exception.toolkit.upgrade.conflict",
				Message: what + " while the migrations ran, so the upgrade stops and nothing changes.",
				Action:  "Upload the plugin again when no job of this plugin runs."}
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, data FROM objects ORDER BY id`)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var id int64
			var data string
			if err := rows.Scan(&id, &data); err != nil {
				rows.Close()
				return err
			}
			var head struct {
				Toolkit string `json:"toolkit"`
			}
			if json.Unmarshal([]byte(data), &head) == nil && head.Toolkit == p.toolkit {
				n++
			}
		}
		rows.Close()
		if n != len(p.objects) {
			return conflict(fmt.Sprintf("Objects of the plugin were created or deleted (%d, now %d)", len(p.objects), n))
		}
		for _, o := range p.objects {
			var data, sealed string
			err := tx.QueryRowContext(ctx, `SELECT data, sealed FROM objects WHERE id=?`, o.id).Scan(&data, &sealed)
			if err != nil || data != o.data || sealed != o.sealed {
				return conflict(objectRef(o.kind, o.id) + " changed")
			}
			doc, ok := p.newDocs[o.id]
			if !ok {
				continue
			}
			masked, sealedNew, err := s.keeper.seal(o.kind, doc, s.toolkitLookup(ctx, tx))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE objects SET data=?, sealed=? WHERE id=?`, string(masked), sealedNew, o.id); err != nil {
				return err
			}
		}
		return nil
	}
}
