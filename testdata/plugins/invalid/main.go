// Command invalid is a test plugin with invalid registrations.
package main

import (
	"context"
	"encoding/json"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/runtime"
)

func noop(ctx context.Context, _ json.RawMessage) (any, error) { return nil, nil }

func keep(ctx context.Context, old json.RawMessage) (json.RawMessage, error) { return old, nil }

func main() {
	runtime.Main(&runtime.Plugin{
		Type: runtime.Direct,
		Operations: map[string]runtime.Handler{
			"discovery.repository": noop,
			"linked.start_staging": noop, // staged only
			"linked.bogus":         noop,
		},
		Migrations: []runtime.Migration{
			{Kind: "repository", ID: "5.4.0.1", Type: sdk.PlatformMigration, Func: keep},
			{Kind: "snapshot", ID: "5.04.000.01", Type: sdk.PlatformMigration, Name: "snap_upgrade", Func: keep},
			{Kind: "repository", ID: "1234.0.0.", Type: sdk.PlatformMigration, Name: "bad_format", Func: keep},
			{Kind: "repository", ID: "0.0", Type: sdk.PlatformMigration, Name: "zero", Func: keep},
			{Kind: "repository", ID: "1.0.patchversion", Type: sdk.LuaMigration, Name: "bad_lua", Func: keep},
		},
	})
}
