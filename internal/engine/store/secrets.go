package store

import (
	"context"
	"encoding/json"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/schema"
)

// secretFields are the fields of each object kind that hold plugin
// values, and the definition each follows ("" = decided per object: a
// dSource's linkedSourceDefinition or a VDB's virtualSourceDefinition).
var secretFields = map[string]map[string]string{
	KindRepository:   {"parameters": "repositoryDefinition"},
	KindSourceConfig: {"parameters": "sourceConfigDefinition"},
	KindContainer:    {"parameters": ""},
	KindSnapshot:     {"metadata": "snapshotDefinition", "snapshotParameters": "snapshotParametersDefinition"},
}

// PluginSchema returns the six definitions of an installed plugin (for
// ValidateValue and the secrets of its objects), built once per build.
func (s *Store) PluginSchema(t *Toolkit, a *artifact.Artifact) *schema.Schema {
	if v, ok := s.schemas.Load(t.ArtifactSHA256); ok {
		return v.(*schema.Schema)
	}
	sch := &schema.Schema{Definitions: map[string]json.RawMessage{
		"repositoryDefinition":         a.DiscoveryDefinition.RepositorySchema,
		"sourceConfigDefinition":       a.DiscoveryDefinition.SourceConfigSchema,
		"virtualSourceDefinition":      a.VirtualSourceDefinition.Parameters,
		"linkedSourceDefinition":       a.LinkedSourceDefinition.Parameters,
		"snapshotDefinition":           a.SnapshotSchema,
		"snapshotParametersDefinition": a.SnapshotParametersDefinition.Schema,
	}}
	s.schemas.Store(t.ArtifactSHA256, sch)
	return sch
}

// seal masks the secrets of an object document of the kind and returns
// them sealed; the object's plugin is looked up through q (inside a
// transaction when q is one: the store has a single connection).
func (s *Store) seal(ctx context.Context, q querier, kind string, doc []byte) ([]byte, string, error) {
	return s.keeper.Seal(doc, secretFields[kind], func(ref string) (map[string]json.RawMessage, error) {
		t, err := s.toolkitByRefQ(ctx, q, ref)
		if err != nil || t == nil {
			return nil, err
		}
		a, err := t.Artifact()
		if err != nil {
			return nil, err
		}
		return s.PluginSchema(t, a).Definitions, nil
	})
}

// PrimeSecrets registers the secrets of every stored object with the
// redactor at start-up (before any job can print one). It returns the
// number of objects whose secrets could not be opened, and the first
// error.
func (s *Store) PrimeSecrets(ctx context.Context) (int, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT data, sealed FROM objects WHERE sealed <> ''`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	bad, first := 0, error(nil)
	for rows.Next() {
		var data, sealed string
		if err := rows.Scan(&data, &sealed); err != nil {
			return bad, err
		}
		if _, err := s.keeper.Unseal([]byte(data), sealed); err != nil {
			bad++
			if first == nil {
				first = err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return bad, err
	}
	return bad, first
}
