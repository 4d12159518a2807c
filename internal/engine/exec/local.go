package exec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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

func (l *localExec) Mount(_ context.Context, storage, mountPath string, _ bool) (string, error) {
	if !filepath.IsAbs(mountPath) {
		return "", fmt.Errorf("the mount path %q is not absolute", mountPath)
	}
	mountPath = filepath.Clean(mountPath)
	fi, err := os.Lstat(mountPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(mountPath), 0o755); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	case fi.Mode()&os.ModeSymlink != 0:
		target, _ := os.Readlink(mountPath)
		if target == storage {
			return MountSymlink, nil
		}
		if !strings.Contains(target, string(filepath.Separator)+"storage"+string(filepath.Separator)) {
			return "", fmt.Errorf("the mount path %s is a symbolic link to %s, which is not engine storage", mountPath, target)
		}
		if err := os.Remove(mountPath); err != nil {
			return "", err
		}
	case fi.IsDir():
		entries, err := os.ReadDir(mountPath)
		if err != nil {
			return "", err
		}
		if len(entries) > 0 {
			return "", fmt.Errorf("the mount path %s exists and is not empty; the engine mounts storage as a symbolic link there, so it must be absent or an empty directory", mountPath)
		}
		if err := os.Remove(mountPath); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("the mount path %s exists and is not a directory", mountPath)
	}
	if err := os.Symlink(storage, mountPath); err != nil {
		return "", err
	}
	return MountSymlink, nil
}

func (l *localExec) SyncBack(context.Context, string, string, string) error { return nil }

func (l *localExec) Unmount(_ context.Context, storage, mountPath, _ string) error {
	fi, err := os.Lstat(mountPath)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return nil
	}
	if target, _ := os.Readlink(mountPath); target == storage {
		return os.Remove(mountPath)
	}
	return nil
}

func (l *localExec) Close() error { return nil }
