// Command plugin_runner is secret-leaker, a careless STAGED plugin used by
// the end-to-end secret test (internal/engine/e2e): it receives passwords
// (format: password) and a credentials supplier, and then does everything a
// plugin should not do with them — logs them in plain strings, prints them
// to stdout and stderr, echoes them from a shell, returns them in snapshot
// metadata and in a source config, and quotes them in a UserError. The
// engine must keep every one of them out of every log, event, answer and
// file it writes.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/types"

	"secret-leaker/generated"
)

var plugin = generated.Plugin{
	Discovery: generated.DiscoveryOperations{
		Repository:   repositoryDiscovery,
		SourceConfig: sourceConfigDiscovery,
	},
	Linked: generated.LinkedOperations{
		PreSnapshot:        linkedPreSnapshot,
		PostSnapshot:       linkedPostSnapshot,
		MountSpecification: linkedMountSpecification,
	},
	Virtual: generated.VirtualOperations{
		Configure:          configure,
		Reconfigure:        reconfigure,
		PostSnapshot:       virtualPostSnapshot,
		MountSpecification: virtualMountSpecification,
	},
}

func main() { plugin.Main() }

// mountPath is under the engine user's home directory, which the test
// points at its own directory (a plugin's TMPDIR is its work directory,
// which commands on the environment do not see).
func mountPath(guid string) string {
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "leaker-mounts", guid)
}

func repositoryDiscovery(ctx context.Context, sourceConnection sdk.RemoteConnection) ([]generated.RepositoryDefinition, error) {
	return []generated.RepositoryDefinition{{Name: types.Ptr("leaker-repo")}}, nil
}

func sourceConfigDiscovery(ctx context.Context, sourceConnection sdk.RemoteConnection, repository generated.RepositoryDefinition) ([]generated.SourceConfigDefinition, error) {
	return nil, nil
}

func linkedPreSnapshot(ctx context.Context, staged sdk.StagedSource[generated.LinkedSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition, _ *generated.SnapshotParametersDefinition) error {
	p := staged.Parameters
	creds, err := libs.RetrieveCredentials(ctx, p.Credentials)
	if err != nil {
		return err
	}
	pc, ok := creds.(sdk.PasswordCredentials)
	if !ok {
		return &sdk.UserError{Message: fmt.Sprintf("expected password credentials, got %T", creds)}
	}
	token := ""
	if sourceConfig.APIToken != nil {
		token = sourceConfig.APIToken.Reveal()
	}
	// The careful ways (masked by the SDK) ...
	slog.InfoContext(ctx, "parameters", "params", p, "creds", creds)
	// ... and the careless ones.
	slog.InfoContext(ctx, "careless: db password "+p.DBPassword.Reveal()+", credential password "+pc.Password+", api token "+token)
	slog.ErrorContext(ctx, "careless error record", "raw", p.DBPassword.Reveal())
	fmt.Println("stdout: " + p.DBPassword.Reveal())
	fmt.Fprintln(os.Stderr, "stderr: "+pc.Password)
	if staged.Mount == nil {
		return &sdk.UserError{Message: "no staged mount"}
	}
	res, err := libs.RunBash(ctx, staged.StagedConnection, `echo "bash out: $PW"; echo "bash err: $PW" >&2; echo file > "$MNT/data.txt"`,
		libs.Variables(map[string]string{"PW": pc.Password, "MNT": staged.Mount.MountPath}))
	if err != nil {
		return err
	}
	slog.DebugContext(ctx, "bash said "+res.Stdout+res.Stderr)
	return nil
}

func linkedPostSnapshot(ctx context.Context, staged sdk.StagedSource[generated.LinkedSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition, _ *generated.SnapshotParametersDefinition) (generated.SnapshotDefinition, error) {
	key := types.Password("sk-" + staged.Parameters.DBPassword.Reveal())
	return generated.SnapshotDefinition{SessionKey: &key, User: types.Ptr("leaker")}, nil
}

func linkedMountSpecification(ctx context.Context, staged sdk.StagedSource[generated.LinkedSourceDefinition], repository generated.RepositoryDefinition) (sdk.MountSpecification, error) {
	return sdk.MountSpecification{Mounts: []sdk.Mount{{RemoteEnvironment: staged.StagedConnection.Environment, MountPath: mountPath(staged.GUID)}}}, nil
}

func configure(ctx context.Context, virtual sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition, snapshot generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
	admin := virtual.Parameters.AdminPassword.Reveal()
	session := ""
	if snapshot.SessionKey != nil {
		session = snapshot.SessionKey.Reveal()
	}
	if f := virtual.Parameters.Fail; f != nil && *f {
		return generated.SourceConfigDefinition{}, &sdk.UserError{
			Message: "cannot configure with admin password " + admin + " and session key " + session,
			Action:  "Try again with the password " + admin + ".",
			Output:  "tool output: " + admin,
		}
	}
	token := types.Password("tok-" + admin)
	return generated.SourceConfigDefinition{Name: virtual.GUID, APIToken: &token}, nil
}

func reconfigure(ctx context.Context, virtual sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition, snapshot generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
	return configure(ctx, virtual, repository, snapshot)
}

func virtualPostSnapshot(ctx context.Context, virtual sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition) (generated.SnapshotDefinition, error) {
	return generated.SnapshotDefinition{User: types.Ptr("leaker")}, nil
}

func virtualMountSpecification(ctx context.Context, virtual sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition) (sdk.MountSpecification, error) {
	return sdk.MountSpecification{Mounts: []sdk.Mount{{RemoteEnvironment: virtual.Connection.Environment, MountPath: mountPath(virtual.GUID)}}}, nil
}
