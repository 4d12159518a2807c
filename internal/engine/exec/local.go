package exec

import (
	"context"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/sandbox"
	"github.com/dvpkit/dvp/sdk/libs"
)

// localExec runs on this host as the engine's user (pluginhost.LocalLibraries),
// in a sandbox when it runs a plugin's commands.
type localExec struct {
	env    engineapi.Environment
	sb     *sandbox.Sandbox
	policy func() sandbox.Policy // nil: no sandbox (the engine's own steps)
	osUser *OSUser               // nil: the engine's user
}

func newLocalExec(env engineapi.Environment) *localExec {
	return &localExec{env: env}
}

// libs returns the libraries of one call (the policy changes as the job
// mounts storage).
func (l *localExec) libs() *pluginhost.LocalLibraries {
	ll := &pluginhost.LocalLibraries{}
	if l.policy != nil {
		ll.Sandbox, ll.Policy = l.sb, l.policy()
	}
	return ll
}

func (l *localExec) RunBash(ctx context.Context, req pluginhost.BashRequest) (libs.RunResult, error) {
	return l.libs().RunBash(ctx, noConn, req)
}

func (l *localExec) RunExpect(ctx context.Context, req pluginhost.ScriptRequest) (libs.RunResult, error) {
	return l.libs().RunExpect(ctx, noConn, req)
}

func (l *localExec) RunPowershell(ctx context.Context, req pluginhost.ScriptRequest) (libs.RunResult, error) {
	return l.libs().RunPowershell(ctx, noConn, req)
}

func (l *localExec) Pull(ctx context.Context, req pluginhost.SyncRequest, dest string) error {
	ll := l.libs()
	ll.SyncDestination = dest
	return ll.RunSync(ctx, noConn, req)
}

func (l *localExec) SyncBack(context.Context, string, string, string) error { return nil }

func (l *localExec) Close() error { return nil }
