package exec

import (
	"context"

	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/sdk/libs"
)

// RunHook runs a user's hook command (docs/workflows.md, "Hooks") with bash
// on the environment envRef the way the plugin's run_bash calls run there:
// over SSH as the environment's user, or on this host in the sandbox of
// the plugin's local commands (which sees the storage the job mounted). Its
// output lines go to the job's events as they come, from source (the
// hook's name; bounded by the job). It is bounded like a plugin operation
// (Runner.Timeout) and by the executor's output limit.
func (r *Plugin) RunHook(ctx context.Context, envRef, source, command string) (libs.RunResult, error) {
	x, _, err := r.libs.executor(ctx, envRef)
	if err != nil {
		return libs.RunResult{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return x.RunBash(WithJobOutput(cctx, r.job, source), pluginhost.BashRequest{Command: command})
}
