// Command plugin_runner is a STAGED test plugin of dvp build's tests. It
// registers its operations with the untyped runtime, the way generated code
// does.
package main

import (
	"context"
	"encoding/json"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/runtime"
)

type repository struct {
	Name string `json:"name"`
}

type sourceConfig struct {
	Name string `json:"name"`
}

type empty struct{}

type linkedIn struct {
	StagedSource sdk.StagedSource[empty] `json:"staged_source"`
	Repository   repository              `json:"repository"`
}

type virtualIn struct {
	VirtualSource sdk.VirtualSource[empty] `json:"virtual_source"`
	Repository    repository               `json:"repository"`
	SourceConfig  sourceConfig             `json:"source_config"`
}

var plugin = &runtime.Plugin{
	Type: runtime.Staged,
	Operations: map[string]runtime.Handler{
		"discovery.repository": runtime.Adapt(func(ctx context.Context, in struct{}) ([]repository, error) {
			return []repository{{Name: "fixture"}}, nil
		}),
		"discovery.source_config": runtime.Adapt(func(ctx context.Context, in struct{}) ([]sourceConfig, error) {
			return nil, nil
		}),
		"linked.post_snapshot": runtime.Adapt(func(ctx context.Context, in linkedIn) (empty, error) {
			return empty{}, nil
		}),
		"linked.mount_specification": runtime.Adapt(func(ctx context.Context, in linkedIn) (sdk.MountSpecification, error) {
			m := sdk.Mount{RemoteEnvironment: in.StagedSource.StagedConnection.Environment, MountPath: "/mnt/" + in.StagedSource.GUID}
			return sdk.MountSpecification{Mounts: []sdk.Mount{m}}, nil
		}),
		"virtual.configure": runtime.Adapt(func(ctx context.Context, in virtualIn) (sourceConfig, error) {
			return sourceConfig{Name: in.VirtualSource.GUID}, nil
		}),
		"virtual.reconfigure": runtime.Adapt(func(ctx context.Context, in virtualIn) (sourceConfig, error) {
			return in.SourceConfig, nil
		}),
		"virtual.post_snapshot": runtime.Adapt(func(ctx context.Context, in virtualIn) (empty, error) {
			return empty{}, nil
		}),
		"virtual.mount_specification": runtime.Adapt(func(ctx context.Context, in virtualIn) (sdk.MountSpecification, error) {
			m := sdk.Mount{RemoteEnvironment: in.VirtualSource.Connection.Environment, MountPath: "/mnt/" + in.VirtualSource.GUID}
			return sdk.MountSpecification{Mounts: []sdk.Mount{m}}, nil
		}),
	},
	Migrations: []runtime.Migration{
		{Kind: "repository", ID: "2019.04.01", Type: sdk.PlatformMigration, Func: upgradeRepository},
		{Kind: "snapshot", ID: "1.2", Type: sdk.PlatformMigration, Func: upgradeSnapshot},
		{Kind: "repository", ID: "1.1", Type: sdk.LuaMigration, Func: upgradeRepository},
	},
}

func upgradeRepository(ctx context.Context, old json.RawMessage) (json.RawMessage, error) {
	return old, nil
}

func upgradeSnapshot(ctx context.Context, old json.RawMessage) (json.RawMessage, error) {
	return old, nil
}

func main() { runtime.Main(plugin) }
