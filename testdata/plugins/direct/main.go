// Command direct is a well-behaved DIRECT test plugin; its pre-snapshot
// ingests with RunSync.
package main

import (
	"context"
	"log/slog"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/runtime"
)

type Repository struct {
	Name string `json:"name"`
}

type SourceConfig struct {
	Path string `json:"path"`
}

type LinkedSource struct {
	Exclude []string `json:"exclude,omitempty"`
	Follow  []string `json:"follow,omitempty"`
}

type VirtualSource struct {
	MountLocation string `json:"mountLocation"`
}

type Snapshot struct {
	GUID        string `json:"guid"`
	PolicyDrive bool   `json:"policyDriven"`
}

type SnapshotParameters struct {
	Resync bool `json:"resync"`
}

type snapIn struct {
	DirectSource       sdk.DirectSource[LinkedSource] `json:"direct_source"`
	Repository         Repository                     `json:"repository"`
	SourceConfig       SourceConfig                   `json:"source_config"`
	SnapshotParameters *SnapshotParameters            `json:"snapshot_parameters"`
}

type virtualIn struct {
	VirtualSource sdk.VirtualSource[VirtualSource] `json:"virtual_source"`
	Repository    Repository                       `json:"repository"`
	SourceConfig  SourceConfig                     `json:"source_config"`
}

func main() {
	runtime.Main(&runtime.Plugin{
		Type: runtime.Direct,
		Operations: map[string]runtime.Handler{
			"discovery.repository": runtime.Adapt(func(ctx context.Context, in struct {
				SourceConnection sdk.RemoteConnection `json:"source_connection"`
			}) ([]Repository, error) {
				return []Repository{{Name: in.SourceConnection.Environment.Name}}, nil
			}),
			"discovery.source_config": runtime.Adapt(func(ctx context.Context, in struct {
				SourceConnection sdk.RemoteConnection `json:"source_connection"`
				Repository       Repository           `json:"repository"`
			}) ([]SourceConfig, error) {
				return nil, nil // nothing found: an empty list
			}),
			"linked.pre_snapshot": runtime.Adapt(func(ctx context.Context, in snapIn) (any, error) {
				slog.InfoContext(ctx, "syncing", "from", in.SourceConfig.Path)
				p := in.DirectSource.Parameters
				return nil, libs.RunSync(ctx, in.DirectSource.Connection, in.SourceConfig.Path, "", p.Exclude, p.Follow)
			}),
			"linked.post_snapshot": runtime.Adapt(func(ctx context.Context, in snapIn) (Snapshot, error) {
				return Snapshot{GUID: in.DirectSource.GUID, PolicyDrive: in.SnapshotParameters == nil}, nil
			}),
			"linked.source_size": runtime.Adapt(func(ctx context.Context, in struct {
				DirectSource sdk.DirectSource[LinkedSource] `json:"direct_source"`
				Repository   Repository                     `json:"repository"`
				SourceConfig SourceConfig                   `json:"source_config"`
			}) (float64, error) {
				return 12345, nil
			}),
			"virtual.configure": runtime.Adapt(func(ctx context.Context, in struct {
				VirtualSource sdk.VirtualSource[VirtualSource] `json:"virtual_source"`
				Repository    Repository                       `json:"repository"`
				Snapshot      Snapshot                         `json:"snapshot"`
			}) (SourceConfig, error) {
				return SourceConfig{Path: in.VirtualSource.Parameters.MountLocation}, nil
			}),
			"virtual.reconfigure": runtime.Adapt(func(ctx context.Context, in struct {
				VirtualSource sdk.VirtualSource[VirtualSource] `json:"virtual_source"`
				Repository    Repository                       `json:"repository"`
				SourceConfig  SourceConfig                     `json:"source_config"`
				Snapshot      Snapshot                         `json:"snapshot"`
			}) (SourceConfig, error) {
				return in.SourceConfig, nil
			}),
			"virtual.mount_specification": runtime.Adapt(func(ctx context.Context, in struct {
				VirtualSource sdk.VirtualSource[VirtualSource] `json:"virtual_source"`
				Repository    Repository                       `json:"repository"`
			}) (sdk.MountSpecification, error) {
				return sdk.MountSpecification{Mounts: []sdk.Mount{{
					RemoteEnvironment: in.VirtualSource.Connection.Environment,
					MountPath:         in.VirtualSource.Parameters.MountLocation,
				}}}, nil
			}),
			"virtual.post_snapshot": runtime.Adapt(func(ctx context.Context, in virtualIn) (Snapshot, error) {
				return Snapshot{GUID: in.VirtualSource.GUID}, nil
			}),
		},
	})
}
