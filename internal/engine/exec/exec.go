// Package exec runs commands on the local engine's environments: on this
// host (local.go) or on a host reached over SSH (ssh.go), for the platform
// libraries a plugin calls (run_bash, run_expect, run_powershell, run_sync)
// and for the engine's own mount steps; and it runs plugins (runner.go:
// the plugin process of one job, its library requests answered on the
// environments, its log files).
//
// The processes the engine starts for its work all run through this
// package: commands on local environments (local.go, through
// internal/pluginhost's local libraries and internal/sandbox), rsync to and
// from SSH hosts (ssh.go), the copies of storage into snapshots and back
// (copy.go) and plugin processes (Runner.Start). Of the engine's packages
// it uses store (where plugin binaries and plugin logs live in the data
// directory) and secrets (to mask what plugins print); the core package
// gives it the environments and the job to report to.
package exec

import (
	"context"
	"fmt"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
)

// Mount methods: the contract's (engineapi.Mount.Method; docs/workflows.md,
// "Mounts and snapshots").
const (
	MountSymlink = engineapi.MountSymlink
	MountRsync   = engineapi.MountRsync
)

// Executor runs the platform libraries and the engine's own mount steps on
// one environment.
type Executor interface {
	RunBash(ctx context.Context, req pluginhost.BashRequest) (libs.RunResult, error)
	RunExpect(ctx context.Context, req pluginhost.ScriptRequest) (libs.RunResult, error)
	RunPowershell(ctx context.Context, req pluginhost.ScriptRequest) (libs.RunResult, error)
	// Pull mirrors the host's directory req.SourceDirectory into the
	// engine directory dest (run_sync, direct ingestion).
	Pull(ctx context.Context, req pluginhost.SyncRequest, dest string) error
	// Mount makes the engine directory storage visible at mountPath on the
	// host; remount says the container already had this mount.
	Mount(ctx context.Context, storage, mountPath string, remount bool) (method string, err error)
	// SyncBack brings what the plugin wrote at the mount path into storage.
	SyncBack(ctx context.Context, storage, mountPath, method string) error
	// Verify checks, before a plugin operation, that the mount is still
	// the engine's (missing: its absence is accepted).
	Verify(ctx context.Context, storage, mountPath, method string, missing bool) error
	// Unmount ends a mount.
	Unmount(ctx context.Context, storage, mountPath, method string) error
	Close() error
}

func libErr(id, format string, args ...any) error {
	return &libs.LibraryError{ID: id, Message: fmt.Sprintf(format, args...)}
}

// noConn is the connection the local libraries get: on this host it
// names nothing.
var noConn sdk.RemoteConnection

// New returns the Executor of an environment.
func New(env engineapi.Environment) Executor {
	if env.HostType == engineapi.HostSSH {
		return newSSHExec(env)
	}
	return newLocalExec(env)
}
