// Command plugin_runner is the tutorial's first plugin ("Building Your First
// Plugin"), in Go: a STAGED plugin for UNIX hosts that copies a directory
// tree from a source host onto the staging storage with rsync over
// passwordless SSH, and provisions VDBs that show the same files.
package main

import (
	"context"
	"fmt"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/types"

	"my-first-plugin/generated"
)

var plugin = generated.Plugin{
	Discovery: generated.DiscoveryOperations{
		Repository:   repositoryDiscovery,
		SourceConfig: sourceConfigDiscovery,
	},
	Linked: generated.LinkedOperations{
		PreSnapshot:        copyDataFromSource,
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

// repositoryDiscovery: every Unix host has a filesystem, so there is one
// repository per environment.
func repositoryDiscovery(ctx context.Context, sourceConnection sdk.RemoteConnection) ([]generated.RepositoryDefinition, error) {
	return []generated.RepositoryDefinition{{Name: types.Ptr("Repository for our First Plugin")}}, nil
}

// sourceConfigDiscovery finds nothing: the user adds source configs by hand.
func sourceConfigDiscovery(ctx context.Context, sourceConnection sdk.RemoteConnection, repository generated.RepositoryDefinition) ([]generated.SourceConfigDefinition, error) {
	return nil, nil
}

// linkedMountSpecification mounts the dSource's storage on the staging
// environment where the user asked.
func linkedMountSpecification(ctx context.Context, stagedSource sdk.StagedSource[generated.LinkedSourceDefinition], repository generated.RepositoryDefinition) (sdk.MountSpecification, error) {
	mount := sdk.Mount{RemoteEnvironment: stagedSource.StagedConnection.Environment, MountPath: stagedSource.Parameters.MountLocation}
	return sdk.MountSpecification{Mounts: []sdk.Mount{mount}}, nil
}

// copyDataFromSource copies the source directory onto the staged mount with
// rsync, run on the staging host (sync and resync alike).
func copyDataFromSource(ctx context.Context, stagedSource sdk.StagedSource[generated.LinkedSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition, snapshotParameters *generated.SnapshotParametersDefinition) error {
	params := stagedSource.Parameters
	stageMountPath := params.MountLocation
	if stagedSource.Mount != nil {
		stageMountPath = stagedSource.Mount.MountPath
	}
	dataLocation := fmt.Sprintf("%s@%s:%s", params.Username, params.SourceAddress, sourceConfig.Path)
	rsyncCommand := fmt.Sprintf("rsync -r %s %s", dataLocation, stageMountPath)
	result, err := libs.RunBash(ctx, stagedSource.StagedConnection, rsyncCommand)
	if err != nil {
		return err
	}
	if result.ExitCode != 0 {
		return sdk.UserError{Message: fmt.Sprintf("Could not copy files. Please ensure that passwordless SSH works for %s.\n%s",
			params.SourceAddress, result.Stderr)}
	}
	return nil
}

// linkedPostSnapshot: the snapshot needs no data of its own.
func linkedPostSnapshot(ctx context.Context, stagedSource sdk.StagedSource[generated.LinkedSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition, snapshotParameters *generated.SnapshotParametersDefinition) (generated.SnapshotDefinition, error) {
	return generated.SnapshotDefinition{}, nil
}

// virtualMountSpecification mounts the VDB's storage on its environment
// where the user asked.
func virtualMountSpecification(ctx context.Context, virtualSource sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition) (sdk.MountSpecification, error) {
	mount := sdk.Mount{RemoteEnvironment: virtualSource.Connection.Environment, MountPath: virtualSource.Parameters.MountLocation}
	return sdk.MountSpecification{Mounts: []sdk.Mount{mount}}, nil
}

// configure describes the provisioned VDB: the files are at its mount
// location.
func configure(ctx context.Context, virtualSource sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition, snapshot generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
	location := virtualSource.Parameters.MountLocation
	return generated.SourceConfigDefinition{Path: location, Name: "VDB mounted at " + location}, nil
}

// reconfigure keeps the VDB's source config as it is.
func reconfigure(ctx context.Context, virtualSource sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition, snapshot generated.SnapshotDefinition) (generated.SourceConfigDefinition, error) {
	return sourceConfig, nil
}

// virtualPostSnapshot: the snapshot needs no data of its own.
func virtualPostSnapshot(ctx context.Context, virtualSource sdk.VirtualSource[generated.VirtualSourceDefinition], repository generated.RepositoryDefinition, sourceConfig generated.SourceConfigDefinition) (generated.SnapshotDefinition, error) {
	return generated.SnapshotDefinition{}, nil
}
