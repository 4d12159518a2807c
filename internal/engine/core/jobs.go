package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// ---- jobs (docs/engine.md, "Jobs") ----

func jobID(ref string) (int64, error) {
	var id int64
	if _, err := fmt.Sscanf(ref, "JOB-%d", &id); err != nil || fmt.Sprintf("JOB-%d", id) != ref {
		return 0, notFound("job", ref, "Use the job reference a command printed, or list the jobs with dvp job list.")
	}
	return id, nil
}

// Job returns a job as the API shows it, with its events but the first
// since ones.
func (e *Engine) Job(ctx context.Context, ref string, since int) (*engineapi.Job, error) {
	id, err := jobID(ref)
	if err != nil {
		return nil, err
	}
	j, err := e.store.JobSince(ctx, id, since)
	if err != nil {
		return nil, internalErr(err)
	}
	if j == nil {
		return nil, notFound("job", ref, "Use the job reference a command printed, or list the jobs with dvp job list.")
	}
	a, err := e.store.Action(ctx, fmt.Sprintf("ACTION-%d", j.ActionID))
	if err != nil || a == nil {
		return nil, internalErr(fmt.Errorf("the action of %s is missing", ref))
	}
	return e.jobShown(j, a), nil
}

// jobShown renders a job with what only the running engine knows: whether
// it can be canceled and whether it is queued.
func (e *Engine) jobShown(j *store.Job, a *store.Action) *engineapi.Job {
	out := jobObject(j, a)
	if out.JobState == engineapi.JobRunning {
		out.Cancelable = e.jobs.Cancelable(out.Reference)
		out.Queued = e.jobs.Queued(out.Reference)
	}
	return out
}

// Jobs lists a page of the jobs (without their events), oldest first:
// those in state ("" all) and of target (a reference or name, "" all),
// and how many there are.
func (e *Engine) Jobs(ctx context.Context, state, target string, p Page) ([]json.RawMessage, int, error) {
	if state != "" && state != engineapi.JobRunning && state != engineapi.JobCompleted && state != engineapi.JobFailed && state != engineapi.JobCanceled {
		return nil, 0, badRequest(fmt.Sprintf("%q is not a job state.", state), "Give RUNNING, COMPLETED, FAILED or CANCELED.")
	}
	js, total, err := e.store.JobsPage(ctx, store.JobFilter{State: state, Target: target}, p)
	if err != nil {
		return nil, 0, internalErr(err)
	}
	out := make([]json.RawMessage, 0, len(js))
	for _, j := range js {
		a, err := e.store.Action(ctx, fmt.Sprintf("ACTION-%d", j.ActionID))
		if err != nil || a == nil {
			return nil, 0, internalErr(fmt.Errorf("the action of %s is missing", j.Ref()))
		}
		b, err := json.Marshal(e.jobShown(j, a))
		if err != nil {
			return nil, 0, internalErr(err)
		}
		out = append(out, b)
	}
	return out, total, nil
}

// CancelJob cancels a running job for the caller (jobs.Manager.Cancel)
// and returns it as it is now: the job ends CANCELED once its workflow
// has put its object back in a defined state.
func (e *Engine) CancelJob(ctx context.Context, caller Caller, ref string) (*engineapi.Job, error) {
	j, err := e.Job(ctx, ref, 0)
	if err != nil {
		return nil, err
	}
	if j.JobState != engineapi.JobRunning {
		return nil, conflict(fmt.Sprintf("The job %s (%s) is not running: it is %s.", ref, j.Title, j.JobState), fmt.Sprintf("Nothing to cancel; dvp job show %s says how it ended.", ref))
	}
	by := caller.User
	if by == "" {
		by = caller.UserRef
	}
	if err := e.jobs.Cancel(ref, by); err != nil {
		if errors.Is(err, jobs.ErrNotRunning) {
			if j, jerr := e.Job(ctx, ref, 0); jerr == nil && j.JobState != engineapi.JobRunning {
				return j, nil // it ended meanwhile
			}
			return nil, conflict(fmt.Sprintf("The job %s (%s) cannot be canceled: only the jobs of dSources, VDBs and environments can.", ref, j.Title), fmt.Sprintf("Wait for it to end: dvp job wait %s.", ref))
		}
		return nil, internalErr(err)
	}
	return e.Job(ctx, ref, 0)
}
