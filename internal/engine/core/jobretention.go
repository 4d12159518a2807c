package core

import (
	"context"
	"time"

	"github.com/dvpkit/dvp/internal/engine/store"
)

// Defaults of the job history's retention (dvp engine serve's --keep-jobs
// and --keep-jobs-for; docs/engine.md, "Jobs").
const (
	DefaultKeepJobs    = 10_000
	DefaultKeepJobsFor = 30 * 24 * time.Hour
)

// PruneJobs applies the job history's retention (Config.KeepJobs and
// KeepJobsFor; store.JobRetention says what is never deleted) and logs
// what it deleted.
func (e *Engine) PruneJobs(ctx context.Context) {
	r := store.JobRetention{Keep: e.cfg.KeepJobs}
	if e.cfg.KeepJobsFor > 0 {
		r.Before = store.FormatTime(e.cfg.Clock().Add(-e.cfg.KeepJobsFor))
	}
	jobs, actions, err := e.store.PruneJobs(ctx, r)
	if err != nil {
		e.cfg.Log.Error("pruning the job history", "error", err)
	}
	if jobs > 0 || actions > 0 {
		e.cfg.Log.Info("pruned the job history", "jobs", jobs, "actions_without_job", actions, "keep", r.Keep, "before", r.Before)
	}
}
