package core

import (
	"context"
	"fmt"
	"strings"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// pendingEnvironmentCreate is an environment's Pending from its creation
// until its first check passed.
const pendingEnvironmentCreate = "ENVIRONMENT_CREATE"

// recoverEnvironment puts an environment that a stop of the engine cut
// off in a defined state (RecoverObjects): one whose creation never
// passed its check is removed, as a failed check removes it, with what
// discovery had found; one whose check or discovery was cut off later is
// marked interrupted with what to do (its repositories and source configs
// may be incomplete), until a discovery completes. job is the cut-off
// job's reference ("" when none had begun). It returns the last event of
// that job, and whether the environment was removed.
func (e *Engine) recoverEnvironment(ctx context.Context, env engineapi.Environment, op, job string) (details, action string, removed bool, err error) {
	during := "while no job ran"
	if job != "" {
		during = "during " + job
	}
	if env.Pending == pendingEnvironmentCreate {
		if err := e.removeEnvironment(ctx, env); err != nil {
			return "", "", false, err
		}
		return fmt.Sprintf("The engine stopped %s while environment %s was being added, before its check passed: the environment was removed.", during, env.Name),
			fmt.Sprintf("Add it again (dvp environment add %s ...).", env.Name), true, nil
	}
	what := map[string]string{"ENVIRONMENT_CREATE": "addition", "ENVIRONMENT_REFRESH": "refresh", "ENVIRONMENT_UPDATE": "update"}[op]
	if what == "" {
		what = "discovery"
	}
	details = fmt.Sprintf("The engine stopped %s, the %s of environment %s: its discovery did not finish, so its repositories and source configs may be incomplete.", during, what, env.Name)
	action = fmt.Sprintf("Refresh it (dvp environment refresh %s).", env.Name)
	if op == "ENVIRONMENT_UPDATE" {
		details = fmt.Sprintf("The engine stopped %s, the update of environment %s: it has its old settings or the new ones (dvp environment list shows which), and its discovery may not have finished.", during, env.Name)
		action = fmt.Sprintf("Update it again (dvp environment update %s ...), or refresh it (dvp environment refresh %s).", env.Name, env.Name)
	}
	var full engineapi.Environment
	if found, err := e.store.GetObject(ctx, store.KindEnvironment, env.Reference, &full); err != nil || !found {
		return details, action, false, err
	}
	full.Interrupted = &engineapi.Interruption{Job: job, Operation: op, Details: details, Action: action}
	if err := e.store.PutObject(ctx, store.KindEnvironment, full.Reference, full.Name, &full, e.cfg.Clock()); err != nil {
		return "", "", false, err
	}
	e.cfg.Log.Warn("a stop of the engine interrupted an environment", "environment", env.Name, "reference", env.Reference, "details", details)
	return details, action, false, nil
}

// removeEnvironment removes an environment with its repositories and
// source configs (an environment a dSource or VDB uses is never pending,
// so never removed here).
func (e *Engine) removeEnvironment(ctx context.Context, env engineapi.Environment) error {
	repos, err := listMasked[engineapi.Repository](ctx, e.store, store.KindRepository)
	if err != nil {
		return err
	}
	configs, err := listMasked[engineapi.SourceConfig](ctx, e.store, store.KindSourceConfig)
	if err != nil {
		return err
	}
	gone := []store.ObjectKey{{Kind: store.KindEnvironment, Ref: env.Reference}}
	mine := map[string]bool{}
	for _, r := range repos {
		if r.Environment == env.Reference {
			mine[r.Reference] = true
			gone = append(gone, store.ObjectKey{Kind: store.KindRepository, Ref: r.Reference})
		}
	}
	for _, sc := range configs {
		if mine[sc.Repository] {
			gone = append(gone, store.ObjectKey{Kind: store.KindSourceConfig, Ref: sc.Reference})
		}
	}
	return e.store.DeleteObjects(ctx, gone)
}

// isEnvironmentJob says whether a job of this action type works on an
// environment.
func isEnvironmentJob(actionType string) bool { return strings.HasPrefix(actionType, "ENVIRONMENT_") }
