package core

import (
	"context"
	"path"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/pluginhost"
)

// scratchRemoveTimeout bounds the removal of a deleted environment's
// scratch path on its host.
const scratchRemoveTimeout = 30 * time.Second

// ownScratch says that p is a scratch path this engine made for the
// environment ref: <home>/.dvp-scratch/<engine id>/<ref>. Anything else (a
// path an older engine chose) is never removed.
func (e *Engine) ownScratch(p, ref string) bool {
	if p == "" || !path.IsAbs(p) || path.Clean(p) != p || e.cfg.EngineID == "" {
		return false
	}
	parent := path.Dir(p)
	return path.Base(p) == ref && path.Base(parent) == e.cfg.EngineID && path.Base(path.Dir(parent)) == LocalScratchDir
}

// removeScratch removes a deleted environment's scratch path on its host,
// as the environment's user (who made what is in it), and the engine's
// directory above it once empty. The environment is gone whatever happens
// here: a failure is logged, not returned.
func (e *Engine) removeScratch(ctx context.Context, env engineapi.Environment) {
	if !e.ownScratch(env.ScratchPath, env.Reference) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), scratchRemoveTimeout)
	defer cancel()
	x := exec.New(env)
	defer x.Close()
	// rm does not follow symbolic links: a mount's link goes, not what it
	// points to.
	res, err := x.RunBash(ctx, pluginhost.BashRequest{
		Command:   `rm -rf -- "$DVP_SCRATCH" && { rmdir -- "${DVP_SCRATCH%/*}" 2>/dev/null; true; }`,
		Variables: map[string]string{"DVP_SCRATCH": env.ScratchPath},
	})
	switch {
	case err != nil:
		e.cfg.Log.Warn("removing the scratch path of a deleted environment", "environment", env.Reference, "path", env.ScratchPath, "error", err)
	case res.ExitCode != 0:
		e.cfg.Log.Warn("removing the scratch path of a deleted environment", "environment", env.Reference, "path", env.ScratchPath,
			"exit", res.ExitCode, "stderr", strings.TrimSpace(res.Stderr))
	}
}
