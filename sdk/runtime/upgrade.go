package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/dvpkit/dvp/sdk/protocol"
)

// upgrade is the Handler of the upgrade operation: it pipes every object
// through the migration chain of its kind (see migrationChain).
func (p *Plugin) upgrade(ctx context.Context, input json.RawMessage) (any, error) {
	var in protocol.UpgradeInput
	if err := DecodeInput(input, &in); err != nil {
		return nil, err
	}
	if !slices.Contains(protocol.UpgradeKinds, in.Kind) {
		return nil, &InputError{Message: fmt.Sprintf("the upgrade kind '%s' is not one of %v", in.Kind, protocol.UpgradeKinds)}
	}
	chain, err := p.migrationChain(in.Kind, in.LuaUpgradeVersion, in.MigrationIDs)
	if err != nil {
		return nil, &InputError{Message: err.Error()}
	}
	out := protocol.UpgradeOutput{PostUpgradeParameters: make(map[string]json.RawMessage, len(in.PreUpgradeParameters))}
	for _, ref := range sortedKeys(in.PreUpgradeParameters) {
		obj := in.PreUpgradeParameters[ref]
		if jsonKind(obj) != "an object" {
			return nil, &InputError{Message: fmt.Sprintf("the object '%s' to upgrade is %s but should be a JSON object", ref, jsonKind(obj))}
		}
		for i, m := range chain {
			next, err := m.Func(ctx, obj)
			if err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				return nil, fmt.Errorf("the migration '%s' (%s, function '%s') of upgrade.%s() failed for the object '%s': %w",
					m.ID, m.Type, m.functionName(i), in.Kind, ref, err)
			}
			if k := jsonKind(next); k != "an object" || !json.Valid(next) {
				if k == "an object" {
					k = "invalid JSON"
				}
				return nil, &kindError{kind: protocol.KindBadOutput, msg: fmt.Sprintf(
					"The migration '%s' (%s, function '%s') of upgrade.%s() returned %s for the object '%s' but should return a JSON object.",
					m.ID, m.Type, m.functionName(i), in.Kind, k, ref)}
			}
			obj = next
		}
		out.PostUpgradeParameters[ref] = obj
	}
	return out, nil
}
