// Command plugin_runner is hook-recorder, a STAGED plugin used by the
// end-to-end hook test (internal/engine/e2e/hooks_test.go): each operation
// appends its name to the record file its parameters name, with run_bash
// on the container's environment, where the user's hooks append theirs;
// the file then shows in which order the engine ran them. Its virtual
// status answers what the record says: INACTIVE after a stop or an
// unconfigure, ACTIVE otherwise.
package main

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/types"

	"hook-recorder/generated"
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
		PreSnapshot: func(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition, _ *generated.SnapshotParametersDefinition) error {
			_, err := record(ctx, s.StagedConnection, s.Parameters.RecordFile, "linked.pre_snapshot")
			return err
		},
		PostSnapshot: func(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition, _ *generated.SnapshotParametersDefinition) (generated.SnapshotDefinition, error) {
			_, err := record(ctx, s.StagedConnection, s.Parameters.RecordFile, "linked.post_snapshot")
			return generated.SnapshotDefinition{Took: types.Ptr("yes")}, err
		},
		MountSpecification: func(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], _ generated.RepositoryDefinition) (sdk.MountSpecification, error) {
			if _, err := record(ctx, s.StagedConnection, s.Parameters.RecordFile, "linked.mount_specification"); err != nil {
				return sdk.MountSpecification{}, err
			}
			return mountAt(s.StagedConnection, s.Parameters.RecordFile, s.GUID), nil
		},
	},
	Virtual: generated.VirtualOperations{
		Configure: func(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
			_, err := record(ctx, v.Connection, v.Parameters.RecordFile, "virtual.configure")
			return generated.SourceConfigDefinition{Name: v.GUID}, err
		},
		Reconfigure: func(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition, _ generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
			_, err := record(ctx, v.Connection, v.Parameters.RecordFile, "virtual.reconfigure")
			return generated.SourceConfigDefinition{Name: v.GUID}, err
		},
		Unconfigure: virtualStep("virtual.unconfigure"),
		Cleanup:     virtualStep("virtual.cleanup"),
		Start:       virtualStep("virtual.start"),
		Stop:        virtualStep("virtual.stop"),
		PreSnapshot: virtualStep("virtual.pre_snapshot"),
		PostSnapshot: func(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition) (generated.SnapshotDefinition, error) {
			_, err := record(ctx, v.Connection, v.Parameters.RecordFile, "virtual.post_snapshot")
			return generated.SnapshotDefinition{Took: types.Ptr("yes")}, err
		},
		MountSpecification: func(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition) (sdk.MountSpecification, error) {
			if _, err := record(ctx, v.Connection, v.Parameters.RecordFile, "virtual.mount_specification"); err != nil {
				return sdk.MountSpecification{}, err
			}
			return mountAt(v.Connection, v.Parameters.RecordFile, v.GUID), nil
		},
		Status: func(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition) (sdk.Status, error) {
			last, err := record(ctx, v.Connection, v.Parameters.RecordFile, "virtual.status")
			if err != nil {
				return sdk.StatusInactive, err
			}
			if last == "virtual.stop" || last == "virtual.unconfigure" || last == "post-stop" {
				return sdk.StatusInactive, nil
			}
			return sdk.StatusActive, nil
		},
	},
}

func main() { plugin.Main() }

// record appends op to the record file and returns the line before it.
func record(ctx context.Context, conn sdk.RemoteConnection, file, op string) (string, error) {
	res, err := libs.RunBash(ctx, conn, `tail -n 1 "$REC" 2>/dev/null; echo "$OP" >> "$REC"`,
		libs.Variables(map[string]string{"REC": file, "OP": op}))
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		return "", &sdk.UserError{Message: "cannot write the record file " + file + ": " + res.Stderr}
	}
	return strings.TrimSpace(res.Stdout), nil
}

func virtualStep(op string) func(context.Context, sdk.VirtualSource[generated.VirtualSourceDefinition], generated.RepositoryDefinition, generated.SourceConfigDefinition) error {
	return func(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition) error {
		_, err := record(ctx, v.Connection, v.Parameters.RecordFile, op)
		return err
	}
}

// mountAt mounts the storage next to the record file.
func mountAt(conn sdk.RemoteConnection, recordFile, guid string) sdk.MountSpecification {
	return sdk.MountSpecification{Mounts: []sdk.Mount{{RemoteEnvironment: conn.Environment, MountPath: filepath.Join(filepath.Dir(recordFile), "mnt-"+guid)}}}
}
