// Command plugin_runner is policy-recorder, a STAGED plugin used by the
// end-to-end policy test (internal/engine/e2e/policies_test.go): its
// pre-snapshot appends to the record file its parameters name whether the
// snapshot parameters it got were null (as a policy sync sends them) or an
// object, and its post-snapshot says so in the snapshot (policyDriven).
package main

import (
	"context"
	"path/filepath"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/types"

	"policy-recorder/generated"
)

var plugin = generated.Plugin{
	Discovery: generated.DiscoveryOperations{
		Repository: func(context.Context, sdk.RemoteConnection) ([]generated.RepositoryDefinition, error) {
			return []generated.RepositoryDefinition{{Name: types.Ptr("recorder-repo")}}, nil
		},
		SourceConfig: func(context.Context, sdk.RemoteConnection, generated.RepositoryDefinition) ([]generated.SourceConfigDefinition, error) {
			return nil, nil
		},
	},
	Linked: generated.LinkedOperations{
		PreSnapshot: func(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition, p *generated.SnapshotParametersDefinition) error {
			what := "linked.pre_snapshot snapshot_parameters=null"
			if p != nil {
				what = "linked.pre_snapshot snapshot_parameters=object"
			}
			return record(ctx, s.StagedConnection, s.Parameters.RecordFile, what)
		},
		PostSnapshot: func(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition, p *generated.SnapshotParametersDefinition) (generated.SnapshotDefinition, error) {
			snap := generated.SnapshotDefinition{PolicyDriven: types.Ptr(p == nil)}
			if p != nil {
				snap.Resync = p.Resync
			}
			return snap, nil
		},
		MountSpecification: func(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], _ generated.RepositoryDefinition) (sdk.MountSpecification, error) {
			return mountAt(s.StagedConnection, s.Parameters.RecordFile, s.GUID), nil
		},
	},
	Virtual: generated.VirtualOperations{
		Configure: func(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
			return generated.SourceConfigDefinition{Name: v.GUID}, record(ctx, v.Connection, v.Parameters.RecordFile, "virtual.configure")
		},
		Reconfigure: func(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition, _ generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
			return generated.SourceConfigDefinition{Name: v.GUID}, record(ctx, v.Connection, v.Parameters.RecordFile, "virtual.reconfigure")
		},
		MountSpecification: func(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition) (sdk.MountSpecification, error) {
			return mountAt(v.Connection, v.Parameters.RecordFile, v.GUID), nil
		},
		PostSnapshot: func(context.Context, sdk.VirtualSource[generated.VirtualSourceDefinition], generated.RepositoryDefinition, generated.SourceConfigDefinition) (generated.SnapshotDefinition, error) {
			return generated.SnapshotDefinition{}, nil
		},
	},
}

func main() { plugin.Main() }

// record appends a line to the record file.
func record(ctx context.Context, conn sdk.RemoteConnection, file, line string) error {
	res, err := libs.RunBash(ctx, conn, `echo "$LINE" >> "$REC"`, libs.Variables(map[string]string{"REC": file, "LINE": line}))
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return &sdk.UserError{Message: "cannot write the record file " + file + ": " + res.Stderr}
	}
	return nil
}

// mountAt mounts the storage next to the record file.
func mountAt(conn sdk.RemoteConnection, recordFile, guid string) sdk.MountSpecification {
	return sdk.MountSpecification{Mounts: []sdk.Mount{{RemoteEnvironment: conn.Environment, MountPath: filepath.Join(filepath.Dir(recordFile), "mnt-"+guid)}}}
}
