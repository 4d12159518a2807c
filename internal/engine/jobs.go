package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/pluginhost"
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

// jobCtx is a running workflow job: its action, its job and its events.
type jobCtx struct {
	e       *Engine
	act     *store.Action
	job     *store.Job
	percent float64
	// result is the object reference the job reports (for example the
	// snapshot a sync made), set by the workflow.
	result string
}

func (j *jobCtx) event(code, details string, action *string, kind, state string) {
	details = j.e.cfg.Redactor.Redact(details)
	if action != nil {
		action = strp(j.e.cfg.Redactor.Redact(*action))
	}
	ev := store.JobEvent{Timestamp: store.FormatTime(j.e.cfg.Clock()), MessageCode: code, Details: details, EventType: kind, Percent: j.percent}
	if action != nil {
		ev.Action.String, ev.Action.Valid = *action, true
	}
	if state != "RUNNING" {
		ev.State.String, ev.State.Valid = state, true
	}
	if err := j.e.store.AddEvent(context.Background(), j.job.ID, state, ev); err != nil {
		j.e.cfg.Log.Error("recording a job event", "job", j.job.Ref(), "error", err)
	}
}

func (j *jobCtx) info(code, details string) { j.event(code, details, nil, "INFO", "RUNNING") }

func (j *jobCtx) progress(p float64) {
	if p > j.percent {
		j.percent = p
	}
}

// jobError is a failure a workflow reports to the user.
type jobError struct {
	Code, Message, Action string
}

func (e *jobError) Error() string { return e.Message }

func failf(action, format string, args ...any) error {
	return &jobError{Code: "exception.workflow.failed", Message: fmt.Sprintf(format, args...), Action: action}
}

// maxEventOutput bounds the command output quoted in a failure event.
const maxEventOutput = 16 << 10

// describeFailure turns a workflow error into the job's failure message,
// action and code.
func describeFailure(err error) (details, action, code string) {
	var pe *pluginhost.PluginError
	var je *jobError
	var ae *APIError
	var le *linkError
	switch {
	case errors.As(err, &le):
		details, _, code = describeFailure(le.err)
		return details, le.action, code
	case errors.As(err, &pe):
		details = pe.Message
		if pe.Operation != "" {
			details = fmt.Sprintf("The plugin operation %s() failed: %s", pe.Operation, pe.Message)
		}
		if out := strings.TrimSpace(pe.Output); out != "" {
			if len(out) > maxEventOutput {
				out = "..." + out[len(out)-maxEventOutput:]
			}
			details += "\nOutput:\n" + out
		}
		return details, pe.Action, "exception.plugin." + pe.Kind
	case errors.As(err, &je):
		return je.Message, je.Action, je.Code
	case errors.As(err, &ae):
		return ae.Details, ae.Action, ae.ID
	}
	return "The engine failed: " + err.Error(), "Look at the engine's log, then try again.", "exception.internal"
}

// startJob creates an action and its job, and runs the workflow in the
// background under the lock of lockKey. It answers the request with the
// job and action references and result as the OKResult's result.
func (e *Engine) startJob(w http.ResponseWriter, q *request, actionType, title, target, targetName, lockKey, result string,
	run func(ctx context.Context, j *jobCtx) error) *APIError {
	now := store.FormatTime(e.cfg.Clock())
	act := &store.Action{ActionType: actionType, Title: title, Details: title + ".", State: "RUNNING", UserRef: q.session.userRef, StartTime: now}
	job := &store.Job{ActionType: actionType, Title: title, State: "RUNNING", UserRef: q.session.userRef, StartTime: now, UpdateTime: now}
	job.Target.String, job.Target.Valid = target, target != ""
	job.TargetName.String, job.TargetName.Valid = targetName, targetName != ""
	if err := e.store.InsertActionWithJob(context.Background(), act, job); err != nil {
		return internalErr(err)
	}
	j := &jobCtx{e: e, act: act, job: job}
	e.jobs.Add(1)
	go func() {
		defer e.jobs.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-e.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		unlock := func() {}
		if lockKey != "" {
			unlock = e.objLocks.lock(lockKey)
		}
		j.info("event.job.started", title+".")
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("the workflow panicked: %v", r)
					e.cfg.Log.Error("workflow panic", "job", job.Ref(), "panic", r)
				}
			}()
			return run(ctx, j)
		}()
		unlock()
		end := store.FormatTime(e.cfg.Clock())
		if err != nil {
			details, action, code := describeFailure(err)
			details, action = e.cfg.Redactor.Redact(details), e.cfg.Redactor.Redact(action)
			j.percent = 100
			j.event("event.job.failed", details, &action, "ERROR", "FAILED")
			if ferr := e.store.FinishAction(context.Background(), act.ID, "FAILED", end, &details, &action, &code); ferr != nil {
				e.cfg.Log.Error("finishing an action", "action", act.Ref(), "error", ferr)
			}
			e.cfg.Log.Info("job failed", "job", job.Ref(), "title", title, "error", details)
			return
		}
		j.percent = 100
		msg := title + ": done."
		if j.result != "" {
			msg = fmt.Sprintf("%s: done (%s).", title, j.result)
		}
		j.event("event.job.completed", msg, nil, "INFO", "COMPLETED")
		if ferr := e.store.FinishAction(context.Background(), act.ID, "COMPLETED", end, nil, nil, nil); ferr != nil {
			e.cfg.Log.Error("finishing an action", "action", act.Ref(), "error", ferr)
		}
	}()
	var res any = ""
	if result != "" {
		res = result
	}
	writeOK(w, res, strp(job.Ref()), strp(act.Ref()))
	return nil
}
