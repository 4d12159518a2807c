package plugintest

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dvpkit/dvp/sdk/protocol"
	"github.com/dvpkit/dvp/sdk/types"
)

// Migrate runs the plugin's data migrations of one kind ("repository",
// "source_config", "linked_source", "virtual_source", "snapshot": the
// generated MigrationKind constants) on old, an object of the previous
// schema (a map, a struct or json.RawMessage), as the engine does when it
// upgrades the plugin: through the runtime's upgrade operation, with the
// engine's rule that a migration may call only UpgradePassword and logging.
//
// migrationIDs are the platform migration ids to apply, in order; with none,
// all of the plugin's platform migrations apply (an object stored by a build
// that had none of them).
//
// The result is then checked against the new schema: it is decoded into New,
// the type generated from the new schema (its decoding checks types,
// required and unknown properties), and New's Validate method runs when it
// has one. A failed migration returns an *OperationError; a result the new
// schema rejects returns the schema's error.
func Migrate[New any, K ~string](p *Platform, kind K, old any, migrationIDs ...string) (New, error) {
	p.t.Helper()
	var zero New
	raw, err := json.Marshal(old)
	if err != nil {
		p.t.Fatalf("plugintest.Migrate: the object to migrate does not encode to JSON: %v", err)
	}
	ids := migrationIDs
	if len(ids) == 0 {
		ids = p.plugin.SortedMigrationIDs()
	}
	if ids == nil {
		ids = []string{}
	}
	const ref = "plugintest-object"
	input, err := json.Marshal(protocol.UpgradeInput{
		Kind: string(kind), MigrationIDs: ids,
		PreUpgradeParameters: map[string]json.RawMessage{ref: raw},
	})
	if err != nil {
		p.t.Fatalf("plugintest.Migrate: %v", err)
	}
	var out protocol.UpgradeOutput
	if err := p.RunJSON(protocol.OperationUpgrade, input, &out); err != nil {
		return zero, err
	}
	migrated, ok := out.PostUpgradeParameters[ref]
	if !ok {
		return zero, errors.New("the upgrade answered without the migrated object")
	}
	var nw New
	if err := types.Unmarshal(migrated, &nw); err != nil {
		return zero, fmt.Errorf("the migrated object %s does not satisfy the new schema: %w", abbreviate(migrated), err)
	}
	if v, ok := any(&nw).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return zero, fmt.Errorf("the migrated object %s does not satisfy the new schema: %w", abbreviate(migrated), err)
		}
	}
	return nw, nil
}
