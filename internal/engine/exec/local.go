package exec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/safefs"
	"github.com/dvpkit/dvp/internal/sandbox"
	"github.com/dvpkit/dvp/sdk/libs"
)

// localExec runs on this host (pluginhost.LocalLibraries) as the
// environment's OS user — the engine's user unless the environment names
// another (--os-user, a root engine only) — in a sandbox when it runs a
// plugin's commands.
type localExec struct {
	env     engineapi.Environment
	sb      *sandbox.Sandbox
	policy  func() sandbox.Policy // nil: no sandbox (the engine's own steps)
	osUser  *sandbox.User         // nil: the engine's user
	userErr error                 // the OS user cannot be used
}

func newLocalExec(env engineapi.Environment) *localExec {
	l := &localExec{env: env}
	l.osUser, l.userErr = LookupOSUser(env.OSUser)
	return l
}

// libs returns the libraries of one call (the policy changes as the job
// mounts storage).
func (l *localExec) libs() (*pluginhost.LocalLibraries, error) {
	if l.userErr != nil {
		return nil, libErr(pluginhost.LibErrFailed, "The commands of environment %s cannot run: %v.", l.env.Name, l.userErr)
	}
	ll := &pluginhost.LocalLibraries{}
	if l.policy != nil {
		ll.Sandbox, ll.Policy = l.sb, l.policy()
	}
	if u := l.osUser; u != nil {
		ll.Policy.User = u
		ll.Env = sandbox.UserEnv(sandbox.Env(nil, ""), u)
		ll.Dir = "/"
		if fi, err := os.Stat(u.Home); err == nil && fi.IsDir() {
			ll.Dir = u.Home
		}
	}
	return ll, nil
}

func (l *localExec) RunBash(ctx context.Context, req pluginhost.BashRequest) (libs.RunResult, error) {
	ll, err := l.libs()
	if err != nil {
		return libs.RunResult{}, err
	}
	return ll.RunBash(ctx, noConn, req)
}

func (l *localExec) RunExpect(ctx context.Context, req pluginhost.ScriptRequest) (libs.RunResult, error) {
	ll, err := l.libs()
	if err != nil {
		return libs.RunResult{}, err
	}
	return ll.RunExpect(ctx, noConn, req)
}

func (l *localExec) RunPowershell(ctx context.Context, req pluginhost.ScriptRequest) (libs.RunResult, error) {
	ll, err := l.libs()
	if err != nil {
		return libs.RunResult{}, err
	}
	return ll.RunPowershell(ctx, noConn, req)
}

func (l *localExec) Pull(ctx context.Context, req pluginhost.SyncRequest, dest string) error {
	ll, err := l.libs()
	if err != nil {
		return err
	}
	if err := l.giveStorage(dest); err != nil {
		return err
	}
	ll.SyncDestination = dest
	return ll.RunSync(ctx, noConn, req)
}

// giveStorage makes the top directory of a container's storage the OS
// user's, so that its commands can write there (the storage is in the
// engine's private data directory: only the sandbox shows it to them).
func (l *localExec) giveStorage(dir string) error {
	u := l.osUser
	if u == nil {
		return nil
	}
	// Opened without following a link (the user's commands may have made
	// links in the storage, under a shared path); made for the user when
	// missing.
	trust := l.owner().trust
	d, err := safefs.OpenDir(dir, trust, &safefs.Create{Mode: 0o755, UID: u.UID, GID: u.GID})
	if err == nil {
		d.Close()
		d, err = safefs.OpenDir(filepath.Dir(dir), trust, nil)
	}
	if err != nil {
		return fmt.Errorf("giving the storage %s to the OS user %s: %w", dir, u.Name, err)
	}
	defer d.Close()
	return d.Lchown(filepath.Base(dir), u.UID, u.GID)
}

func (l *localExec) SyncBack(context.Context, string, string, string) error { return nil }

func (l *localExec) Close() error { return nil }
