package main

import (
	"testing"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/plugintest"

	"my-first-plugin/generated"
)

// The linked source the tests ingest: the user asked to copy
// /var/tmp/data from db.example.com as delphix, onto /mnt/provision/stage.
var linkedSource = generated.LinkedSourceDefinition{
	SourceAddress: "db.example.com",
	Username:      "delphix",
	MountLocation: "/mnt/provision/stage",
}

var sourceConfig = generated.SourceConfigDefinition{Name: "data", Path: "/var/tmp/data"}

func preSnapshot(pt *plugintest.Platform, stagedSource sdk.StagedSource[generated.LinkedSourceDefinition]) error {
	return pt.Run("linked.pre_snapshot", plugintest.In{
		StagedSource: stagedSource,
		Repository:   generated.RepositoryDefinition{},
		SourceConfig: sourceConfig,
	}, nil)
}

// The pre-snapshot runs rsync on the staging host, from the source host
// onto the staged mount.
func TestPreSnapshotRunsRsync(t *testing.T) {
	pt := plugintest.New(t, plugin.Runtime())
	pt.OnRunBash(plugintest.CommandContains("rsync"), libs.RunResult{ExitCode: 0})
	stagedSource := plugintest.StagedSource(linkedSource,
		plugintest.Mount(plugintest.Connection("staging"), "/mnt/provision/stage"))

	if err := preSnapshot(pt, stagedSource); err != nil {
		t.Fatal(err)
	}
	calls := pt.CallsTo("run_bash")
	if len(calls) != 1 {
		t.Fatalf("library calls %+v; want one RunBash", pt.Calls())
	}
	const want = "rsync -r delphix@db.example.com:/var/tmp/data /mnt/provision/stage"
	if calls[0].Command != want {
		t.Errorf("the command is %q; want %q", calls[0].Command, want)
	}
	if calls[0].Connection != stagedSource.StagedConnection {
		t.Errorf("rsync runs on %s; want the staging environment %s",
			calls[0].Connection.Environment.Reference, stagedSource.StagedConnection.Environment.Reference)
	}
}

// A failing rsync fails the snapshot with the tutorial's message and
// rsync's error output.
func TestPreSnapshotReportsFailedRsync(t *testing.T) {
	pt := plugintest.New(t, plugin.Runtime())
	pt.OnRunBash(plugintest.CommandContains("rsync"), libs.RunResult{
		ExitCode: 255, Stderr: "ssh: connect to host db.example.com port 22: Connection refused"})

	err := preSnapshot(pt, plugintest.StagedSource(linkedSource))
	plugintest.WantUserError(t, err,
		"Could not copy files. Please ensure that passwordless SSH works for db.example.com.\n",
		"Connection refused")
}

// The staged mount is where the user asked, on the staging environment.
func TestLinkedMountSpecification(t *testing.T) {
	pt := plugintest.New(t, plugin.Runtime())
	stagedSource := plugintest.StagedSource(linkedSource)
	spec, err := plugintest.Result[sdk.MountSpecification](pt, "linked.mount_specification", plugintest.In{
		StagedSource: stagedSource,
		Repository:   generated.RepositoryDefinition{},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Mount{RemoteEnvironment: stagedSource.StagedConnection.Environment, MountPath: "/mnt/provision/stage"}
	if len(spec.Mounts) != 1 || spec.Mounts[0] != want || spec.OwnershipSpecification != nil {
		t.Errorf("mount specification %+v; want the single mount %+v", spec, want)
	}
}

// The VDB's mount is where the user asked, on its environment.
func TestVirtualMountSpecification(t *testing.T) {
	pt := plugintest.New(t, plugin.Runtime())
	virtualSource := plugintest.VirtualSource(generated.VirtualSourceDefinition{MountLocation: "/mnt/vdb"})
	spec, err := plugintest.Result[sdk.MountSpecification](pt, "virtual.mount_specification", plugintest.In{
		VirtualSource: virtualSource,
		Repository:    generated.RepositoryDefinition{},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Mount{RemoteEnvironment: virtualSource.Connection.Environment, MountPath: "/mnt/vdb"}
	if len(spec.Mounts) != 1 || spec.Mounts[0] != want {
		t.Errorf("mount specification %+v; want the single mount %+v", spec, want)
	}
}
