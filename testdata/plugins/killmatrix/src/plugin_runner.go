// Command plugin_runner is killmatrix, a STAGED plugin for the engine's
// kill matrix (internal/engine/e2e/killmatrix_test.go). Every operation
// first passes a gate: a run_bash on the environment that looks at the
// control directory $HOME/killctl of the engine's user. There
//
//   - block-OP makes operation OP (linked.pre_snapshot, virtual.configure,
//     ...) announce itself once (the file reached-OP, block-OP removed)
//     and then wait until release-OP exists: the test kills the engine
//     while it waits, so the kill lands inside that operation;
//   - fail-OP makes OP fail with a UserError (a clean-up that cannot run).
//
// The gate's shell carries the marker killmatrix-gate in its command
// line, so the test can find it in /proc if it outlived the engine.
//
// Build 1.0.0 has no migration. The test makes a build 2.0.0 of a copy
// whose upgrade list (below) it rewrites to hold gatedMigration.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/types"

	"killmatrix/generated"
)

var plugin = generated.Plugin{
	Discovery: generated.DiscoveryOperations{
		Repository:   repositoryDiscovery,
		SourceConfig: sourceConfigDiscovery,
	},
	Linked: generated.LinkedOperations{
		PreSnapshot:        linkedPreSnapshot,
		PostSnapshot:       linkedPostSnapshot,
		StartStaging:       linkedStartStaging,
		StopStaging:        linkedStopStaging,
		MountSpecification: linkedMountSpecification,
	},
	Virtual: generated.VirtualOperations{
		Configure:          configure,
		Reconfigure:        reconfigure,
		Unconfigure:        unconfigure,
		Cleanup:            cleanup,
		Start:              start,
		Stop:               stop,
		PreSnapshot:        virtualPreSnapshot,
		PostSnapshot:       virtualPostSnapshot,
		MountSpecification: virtualMountSpecification,
		Status:             status,
	},
}

func main() {
	plugin.Upgrade = upgrade
	plugin.Main()
}

// upgrade are the plugin's migrations: none in build 1.0.0.
var upgrade = []generated.Migration{}

// gatedMigration (a linked_source migration of build 2.0.0) waits, in an
// engine started with LC_KILLMATRIX=block-upgrade (the sandbox passes LC_*
// variables to plugins), until its operation ends, after logging
// "killmatrix: reached-upgrade" (the test reads the plugin's debug.log: a
// migration runs no library command, and a plugin process sees no file of
// the host's users nor writes one the host sees). It adds a note.
func gatedMigration(ctx context.Context, old map[string]any) (map[string]any, error) {
	if os.Getenv("LC_KILLMATRIX") == "block-upgrade" {
		slog.InfoContext(ctx, "killmatrix: reached-upgrade")
		<-ctx.Done()
		return nil, ctx.Err()
	}
	old["note"] = "migrated"
	return old, nil
}

// gateScript is the gate of operation $OP (see the package comment).
const gateScript = `: killmatrix-gate
ctl="$HOME/killctl"
if [ -e "$ctl/fail-$OP" ]; then echo "$OP fails on purpose" >&2; exit 7; fi
if [ -e "$ctl/block-$OP" ]; then
  rm -f "$ctl/block-$OP"
  touch "$ctl/reached-$OP"
  while [ ! -e "$ctl/release-$OP" ]; do sleep 0.05; done
fi
if [ -n "$MNT" ]; then echo "$OP" >> "$MNT/ops.txt"; fi
`

// gate runs the gate of op on the environment; mnt, when not empty, is a
// mount path where the operation leaves a trace.
func gate(ctx context.Context, conn sdk.RemoteConnection, op, mnt string) error {
	res, err := libs.RunBash(ctx, conn, gateScript, libs.Variables(map[string]string{"OP": op, "MNT": mnt}))
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return &sdk.UserError{Message: strings.TrimSpace(res.Stderr), Action: "Remove " + op + "'s fail file from the control directory.", Output: res.Stdout}
	}
	return nil
}

// mountPath is under the engine user's home directory, which the test
// points at its own directory.
func mountPath(guid string) string {
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "km-mounts", guid)
}

func firstMount(ms []sdk.Mount) string {
	if len(ms) == 0 {
		return ""
	}
	return ms[0].MountPath
}

func stagedMount(s sdk.StagedSource[generated.LinkedSourceDefinition]) string {
	if s.Mount == nil {
		return ""
	}
	return s.Mount.MountPath
}

func repositoryDiscovery(ctx context.Context, conn sdk.RemoteConnection) ([]generated.RepositoryDefinition, error) {
	if err := gate(ctx, conn, "discovery.repository", ""); err != nil {
		return nil, err
	}
	return []generated.RepositoryDefinition{{Name: types.Ptr("km-repo")}}, nil
}

func sourceConfigDiscovery(ctx context.Context, conn sdk.RemoteConnection, repository generated.RepositoryDefinition) ([]generated.SourceConfigDefinition, error) {
	return []generated.SourceConfigDefinition{{Name: "km-source"}}, nil
}

func linkedPreSnapshot(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition, _ *generated.SnapshotParametersDefinition) error {
	return gate(ctx, s.StagedConnection, "linked.pre_snapshot", stagedMount(s))
}

func linkedPostSnapshot(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition, _ *generated.SnapshotParametersDefinition) (generated.SnapshotDefinition, error) {
	if err := gate(ctx, s.StagedConnection, "linked.post_snapshot", ""); err != nil {
		return generated.SnapshotDefinition{}, err
	}
	return generated.SnapshotDefinition{Files: types.Ptr[int64](1)}, nil
}

func linkedStartStaging(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition) error {
	return gate(ctx, s.StagedConnection, "linked.start_staging", "")
}

func linkedStopStaging(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition) error {
	return gate(ctx, s.StagedConnection, "linked.stop_staging", "")
}

func linkedMountSpecification(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], _ generated.RepositoryDefinition) (sdk.MountSpecification, error) {
	if err := gate(ctx, s.StagedConnection, "linked.mount_specification", ""); err != nil {
		return sdk.MountSpecification{}, err
	}
	return sdk.MountSpecification{Mounts: []sdk.Mount{{RemoteEnvironment: s.StagedConnection.Environment, MountPath: mountPath(s.GUID)}}}, nil
}

func configure(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
	if err := gate(ctx, v.Connection, "virtual.configure", firstMount(v.Mounts)); err != nil {
		return generated.SourceConfigDefinition{}, err
	}
	return generated.SourceConfigDefinition{Name: "vdb-" + v.GUID}, nil
}

func reconfigure(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, sc generated.SourceConfigDefinition, _ generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
	if err := gate(ctx, v.Connection, "virtual.reconfigure", firstMount(v.Mounts)); err != nil {
		return generated.SourceConfigDefinition{}, err
	}
	return sc, nil
}

func unconfigure(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, sc generated.SourceConfigDefinition) error {
	if sc.Name == "" {
		return fmt.Errorf("unconfigure without a source config")
	}
	return gate(ctx, v.Connection, "virtual.unconfigure", "")
}

func cleanup(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition) error {
	return gate(ctx, v.Connection, "virtual.cleanup", "")
}

func start(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition) error {
	return gate(ctx, v.Connection, "virtual.start", firstMount(v.Mounts))
}

func stop(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition) error {
	return gate(ctx, v.Connection, "virtual.stop", firstMount(v.Mounts))
}

func virtualPreSnapshot(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition) error {
	return gate(ctx, v.Connection, "virtual.pre_snapshot", "")
}

func virtualPostSnapshot(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition) (generated.SnapshotDefinition, error) {
	if err := gate(ctx, v.Connection, "virtual.post_snapshot", ""); err != nil {
		return generated.SnapshotDefinition{}, err
	}
	return generated.SnapshotDefinition{Files: types.Ptr[int64](1)}, nil
}

func virtualMountSpecification(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition) (sdk.MountSpecification, error) {
	if err := gate(ctx, v.Connection, "virtual.mount_specification", ""); err != nil {
		return sdk.MountSpecification{}, err
	}
	return sdk.MountSpecification{Mounts: []sdk.Mount{{RemoteEnvironment: v.Connection.Environment, MountPath: mountPath(v.GUID)}}}, nil
}

func status(ctx context.Context, v sdk.VirtualSource[generated.VirtualSourceDefinition], _ generated.RepositoryDefinition, _ generated.SourceConfigDefinition) (sdk.Status, error) {
	return sdk.StatusActive, nil
}
