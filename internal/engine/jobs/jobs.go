// Package jobs runs the local engine's workflows as jobs: each job has an
// action and a job row in the store, records its progress as job events
// (every secret masked), runs in the background under the lock of the
// object it works on, and ends COMPLETED or FAILED with the failure's
// message, action and code. A client follows it through GET
// delphix/action/{ref}/getJob or GET delphix/job/{ref}.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/logging"
)

// keyedMutex holds one mutex per key.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*sync.Mutex{}
	}
	m, ok := k.m[key]
	if !ok {
		m = &sync.Mutex{}
		k.m[key] = m
	}
	k.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// Manager starts jobs and waits for them.
type Manager struct {
	store    *store.Store
	redactor *logging.Redactor
	clock    func() time.Time
	log      *slog.Logger
	describe func(error) (details, action, code string)

	wg    sync.WaitGroup
	stop  chan struct{}
	once  sync.Once
	locks keyedMutex // serializes the jobs of one environment or container
}

// NewManager returns a manager that records jobs in st, masks their events
// with r, and turns a failed job's error into its failure message, action
// and code with describe.
func NewManager(st *store.Store, r *logging.Redactor, clock func() time.Time, log *slog.Logger, describe func(error) (details, action, code string)) *Manager {
	return &Manager{store: st, redactor: r, clock: clock, log: log, describe: describe, stop: make(chan struct{})}
}

// Job is a running job: its action, its job row and its progress.
type Job struct {
	m       *Manager
	act     *store.Action
	job     *store.Job
	percent float64
	// Result is the object reference the job reports (for example the
	// snapshot a sync made), set by the workflow.
	Result string
}

// Event records an event of the job; state is RUNNING, or the job's final
// state.
func (j *Job) Event(code, details string, action *string, kind, state string) {
	if err := j.m.store.AddEvent(context.Background(), j.job.ID, state, j.event(code, details, action, kind, state)); err != nil {
		j.m.log.Error("recording a job event", "job", j.job.Ref(), "error", err)
	}
}

// event is an event of the job, its messages masked.
func (j *Job) event(code, details string, action *string, kind, state string) store.JobEvent {
	details = j.m.redactor.Redact(details)
	if action != nil {
		a := j.m.redactor.Redact(*action)
		action = &a
	}
	ev := store.JobEvent{Timestamp: store.FormatTime(j.m.clock()), MessageCode: code, Details: details, EventType: kind, Percent: j.percent}
	if action != nil {
		ev.Action.String, ev.Action.Valid = *action, true
	}
	if state != "RUNNING" {
		ev.State.String, ev.State.Valid = state, true
	}
	return ev
}

// finish records the job's last event and its action's end in one
// transaction.
func (j *Job) finish(state, end string, last store.JobEvent, failDesc, failAction, failCode *string) {
	if err := j.m.store.FinishJob(context.Background(), store.Finish{JobID: j.job.ID, ActionID: j.act.ID, State: state,
		Events: []store.JobEvent{last}, End: end, FailDesc: failDesc, FailAction: failAction, FailCode: failCode}); err != nil {
		j.m.log.Error("finishing a job", "job", j.job.Ref(), "action", j.act.Ref(), "error", err)
	}
}

// Info records an INFO event.
func (j *Job) Info(code, details string) { j.Event(code, details, nil, "INFO", "RUNNING") }

// Progress raises the job's percentage of completion to p.
func (j *Job) Progress(p float64) {
	if p > j.percent {
		j.percent = p
	}
}

// Ref is the job's reference.
func (j *Job) Ref() string { return j.job.Ref() }

// Spec says what a job is.
type Spec struct {
	ActionType, Title  string
	Target, TargetName string // the object it works on
	LockKey            string // jobs with the same key run one at a time
	UserRef            string // who started it
}

// Start creates an action and its job, and runs run in the background
// under the lock of s.LockKey. It returns the job's and the action's
// references.
func (m *Manager) Start(s Spec, run func(ctx context.Context, j *Job) error) (jobRef, actionRef string, err error) {
	now := store.FormatTime(m.clock())
	act := &store.Action{ActionType: s.ActionType, Title: s.Title, Details: s.Title + ".", State: "RUNNING", UserRef: s.UserRef, StartTime: now}
	job := &store.Job{ActionType: s.ActionType, Title: s.Title, State: "RUNNING", UserRef: s.UserRef, StartTime: now, UpdateTime: now}
	job.Target.String, job.Target.Valid = s.Target, s.Target != ""
	job.TargetName.String, job.TargetName.Valid = s.TargetName, s.TargetName != ""
	if err := m.store.InsertActionWithJob(context.Background(), act, job); err != nil {
		return "", "", err
	}
	j := &Job{m: m, act: act, job: job}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-m.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		unlock := func() {}
		if s.LockKey != "" {
			unlock = m.locks.lock(s.LockKey)
		}
		j.Info("event.job.started", s.Title+".")
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("the workflow panicked: %v", r)
					m.log.Error("workflow panic", "job", job.Ref(), "panic", r)
				}
			}()
			return run(ctx, j)
		}()
		unlock()
		end := store.FormatTime(m.clock())
		if err != nil {
			details, action, code := m.describe(err)
			details, action = m.redactor.Redact(details), m.redactor.Redact(action)
			j.percent = 100
			j.finish("FAILED", end, j.event("event.job.failed", details, &action, "ERROR", "FAILED"), &details, &action, &code)
			m.log.Info("job failed", "job", job.Ref(), "title", s.Title, "error", details)
			return
		}
		j.percent = 100
		msg := s.Title + ": done."
		if j.Result != "" {
			msg = fmt.Sprintf("%s: done (%s).", s.Title, j.Result)
		}
		j.finish("COMPLETED", end, j.event("event.job.completed", msg, nil, "INFO", "COMPLETED"), nil, nil, nil)
	}()
	return job.Ref(), act.Ref(), nil
}

// Attach returns the Job of an action and job that run outside Start (an
// upgrade), at percent.
func (m *Manager) Attach(act *store.Action, job *store.Job, percent float64) *Job {
	return &Job{m: m, act: act, job: job, percent: percent}
}

// Track counts a job that runs outside Start until done is called, so
// that Wait waits for it too.
func (m *Manager) Track() (done func()) {
	m.wg.Add(1)
	return m.wg.Done
}

// Stop cancels the running jobs (their contexts end); Wait waits for them.
func (m *Manager) Stop() { m.once.Do(func() { close(m.stop) }) }

// Wait waits for the running jobs.
func (m *Manager) Wait() { m.wg.Wait() }
