// Package jobs runs the local engine's workflows as jobs: each job has an
// action and a job row in the store, records its progress as job events
// (every secret masked), runs in the background under the lock of the
// object it works on, and ends COMPLETED, FAILED with the failure's
// message, action and code, or CANCELED when Cancel or the engine's
// graceful stop (Manager.Stop) stopped it. A client
// follows it through GET delphix/action/{ref}/getJob or GET
// delphix/job/{ref} (docs/engine.md, "Jobs").
//
// While it runs a job reports: that it waits behind another job on the
// same object (Queued), a heartbeat with the time elapsed every
// Options.Heartbeat, and the output lines of the commands it runs
// (Output), bounded.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/logging"
)

// DefaultHeartbeat is how often a running job records that it still runs.
const DefaultHeartbeat = 30 * time.Second

// Bounds of the command output a job records as events.
const (
	// MaxOutputLines is the most output lines one job records.
	MaxOutputLines = 500
	// MaxOutputLine is the most bytes of one output line recorded.
	MaxOutputLine = 512
	// OutputFlush is how long output lines wait to be recorded together.
	OutputFlush = 200 * time.Millisecond
)

// Options configure a Manager.
type Options struct {
	Store    *store.Store
	Redactor *logging.Redactor
	Clock    func() time.Time
	Log      *slog.Logger
	// Describe turns a failed job's error into its failure message,
	// action and code.
	Describe func(error) (details, action, code string)
	// Heartbeat is how often a running job records an event with the time
	// it has run; 0 is DefaultHeartbeat, negative none.
	Heartbeat time.Duration
	// MaxJobs bounds the jobs clients started (Spec.Owner set) that have
	// not ended, in all; one owner (a session) may hold half. 0 is
	// DefaultMaxJobs, negative no bound.
	MaxJobs int
}

// Manager starts jobs, cancels them and waits for them.
type Manager struct {
	store     *store.Store
	redactor  *logging.Redactor
	clock     func() time.Time
	log       *slog.Logger
	describe  func(error) (details, action, code string)
	heartbeat time.Duration

	wg   sync.WaitGroup
	stop chan struct{}
	once sync.Once

	mu      sync.Mutex
	running map[string]*Job          // by job reference, until it ends
	holders map[string]*Job          // by lock key: the job that holds it
	slots   map[string]chan struct{} // by lock key: a slot of one

	maxJobs    int            // Options.MaxJobs
	clientJobs int            // jobs with an owner that have not ended
	ownerJobs  map[string]int // those, by owner
}

// NewManager returns a manager configured by o.
func NewManager(o Options) *Manager {
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.MaxJobs == 0 {
		o.MaxJobs = DefaultMaxJobs
	}
	return &Manager{store: o.Store, redactor: o.Redactor, clock: o.Clock, log: o.Log, describe: o.Describe, heartbeat: o.Heartbeat,
		stop: make(chan struct{}), running: map[string]*Job{}, holders: map[string]*Job{}, slots: map[string]chan struct{}{},
		maxJobs: o.MaxJobs, ownerJobs: map[string]int{}}
}

// Job is a running job: its action, its job row and its progress.
type Job struct {
	m     *Manager
	act   *store.Action
	job   *store.Job
	title string

	mu       sync.Mutex // guards what follows, and serializes the events
	percent  float64
	queued   bool
	cancel   context.CancelCauseFunc
	canceled string   // who canceled the job ("" not canceled, EngineStop the engine's stop)
	lines    int      // output lines recorded
	cut      bool     // output lines were left out
	noticed  bool     // the event saying so is recorded
	pending  []string // output lines not yet recorded
	flushing bool     // a flushOutput is scheduled
	closed   bool     // the job has ended: no more output
	flushMu  sync.Mutex
	// Result is the object reference the job reports (for example the
	// snapshot a sync made), set by the workflow.
	Result string
	// rolledBack says in what state a canceled job left its object.
	rolledBack string
}

// Event records an event of the job; state is RUNNING, or the job's final
// state.
func (j *Job) Event(code, details string, action *string, kind, state string) {
	j.flushOutput() // the output printed before this event comes first
	j.record(code, details, action, kind, state)
}

// record records an event as Event does, without the pending output.
func (j *Job) record(code, details string, action *string, kind, state string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.m.store.AddEvent(context.Background(), j.job.ID, state, j.event(code, details, action, kind, state)); err != nil {
		j.m.log.Error("recording a job event", "job", j.job.Ref(), "error", err)
	}
}

// event is an event of the job, its messages masked (j.mu held).
func (j *Job) event(code, details string, action *string, kind, state string) store.JobEvent {
	details = j.m.redactor.Redact(details)
	if action != nil {
		a := j.m.redactor.Redact(*action)
		action = &a
	}
	ev := store.JobEvent{Timestamp: store.FormatTime(j.m.clock()), MessageCode: code, Details: details, EventType: kind, Percent: j.percent}
	ev.Action = action
	if state != "RUNNING" {
		ev.State = store.Text(state)
	}
	return ev
}

// finish records the job's last event and its action's end in one
// transaction.
func (j *Job) finish(state, end, code, details string, action *string, kind string, failDesc, failAction, failCode *string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	last := j.event(code, details, action, kind, state)
	if err := j.m.store.FinishJob(context.Background(), store.Finish{JobID: j.job.ID, ActionID: j.act.ID, State: state,
		Events: []store.JobEvent{last}, End: end, FailDesc: failDesc, FailAction: failAction, FailCode: failCode}); err != nil {
		j.m.log.Error("finishing a job", "job", j.job.Ref(), "action", j.act.Ref(), "error", err)
	}
}

// Info records an INFO event.
func (j *Job) Info(code, details string) { j.Event(code, details, nil, "INFO", "RUNNING") }

// Output records one line a command of the job printed (source names the
// command, e.g. "run_bash on here"), cut at MaxOutputLine bytes; past
// MaxOutputLines lines one event says that the rest is left out. It never
// waits for the store: the lines are recorded together, as one event, at
// most OutputFlush later, so that a command that prints fast is not
// slowed down.
func (j *Job) Output(source, line string) {
	if len(line) > MaxOutputLine {
		line = fmt.Sprintf("%s [... %d more bytes]", validPrefix(line, MaxOutputLine), len(line)-MaxOutputLine)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cut {
		return
	}
	if j.lines++; j.lines > MaxOutputLines {
		j.cut = true
	} else {
		j.pending = append(j.pending, source+": "+line)
	}
	if !j.flushing {
		j.flushing = true
		time.AfterFunc(OutputFlush, j.flushOutput)
	}
}

// flushOutput records the pending output lines as one event (and, once,
// that further lines are left out).
func (j *Job) flushOutput() {
	j.flushMu.Lock()
	defer j.flushMu.Unlock()
	j.mu.Lock()
	lines, notice := j.pending, j.cut && !j.noticed
	j.pending, j.flushing = nil, false
	if notice {
		j.noticed = true
	}
	closed := j.closed
	j.mu.Unlock()
	if closed {
		return
	}
	if len(lines) > 0 {
		j.record("event.job.output", strings.Join(lines, "\n"), nil, "INFO", "RUNNING")
	}
	if notice {
		j.record("event.job.output.truncated", fmt.Sprintf("Further command output is left out: a job records at most %d lines.", MaxOutputLines), nil, "INFO", "RUNNING")
	}
}

// closeOutput records the pending output and stops recording more.
func (j *Job) closeOutput() {
	j.flushOutput()
	j.flushMu.Lock()
	defer j.flushMu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closed = true
}

// validPrefix is s cut at n bytes or fewer, on a rune boundary.
func validPrefix(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// Progress raises the job's percentage of completion to p.
func (j *Job) Progress(p float64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if p > j.percent {
		j.percent = p
	}
}

// Ref is the job's reference.
func (j *Job) Ref() string { return j.job.Ref() }

// Title says what the job does.
func (j *Job) Title() string { return j.title }

// Canceled tells whether the job was canceled (Manager.Cancel): its
// workflow then puts its object back in a defined state with a context
// of its own (the job's has ended) and says which with RolledBack.
func (j *Job) Canceled() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.canceled != ""
}

// RolledBack says in what state the canceled job left its object; the
// job's CANCELED event quotes it.
func (j *Job) RolledBack(state string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.rolledBack = state
}

// Spec says what a job is.
type Spec struct {
	ActionType, Title  string
	Target, TargetName string // the object it works on
	LockKey            string // jobs with the same key run one at a time
	UserRef            string // who started it
	// Owner is the client that asked for the job (its session), whose
	// unfinished jobs Options.MaxJobs bounds; "" is a job of the engine's
	// own (a policy's, a worker's), not counted.
	Owner string
	// Ticket, when set, is the place Reserve took for this job: Start
	// uses it instead of taking one.
	Ticket *Ticket
}

// Start creates an action and its job, and runs run in the background
// under the lock of s.LockKey. It returns the job's and the action's
// references. A job beyond Options.MaxJobs is refused with a *LimitError,
// and nothing is recorded.
func (m *Manager) Start(s Spec, run func(ctx context.Context, j *Job) error) (jobRef, actionRef string, err error) {
	admitted := s.Ticket.take()
	if admitted == nil {
		var err error
		if admitted, err = m.admit(s.Owner); err != nil {
			return "", "", err
		}
	}
	now := store.FormatTime(m.clock())
	act := &store.Action{ActionType: s.ActionType, Title: s.Title, Details: s.Title + ".", State: "RUNNING", UserRef: s.UserRef, StartTime: now}
	job := &store.Job{ActionType: s.ActionType, Title: s.Title, State: "RUNNING", UserRef: s.UserRef, StartTime: now, UpdateTime: now}
	job.Target, job.TargetName = store.TextOrNull(s.Target), store.TextOrNull(s.TargetName)
	if err := m.store.InsertActionWithJob(context.Background(), act, job); err != nil {
		admitted()
		return "", "", err
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	j := &Job{m: m, act: act, job: job, title: s.Title, cancel: cancel}
	m.mu.Lock()
	m.running[j.Ref()] = j
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer cancel(nil)
		go func() {
			select {
			case <-m.stop:
				j.stopping()
			case <-ctx.Done():
			}
		}()
		start := m.clock()
		stopBeat := m.beat(j, start)
		j.Info("event.job.started", s.Title+".")
		err := m.acquire(ctx, s.LockKey, j)
		if err == nil {
			err = func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("the workflow panicked: %v", r)
						m.log.Error("workflow panic", "job", job.Ref(), "panic", r)
					}
				}()
				return run(ctx, j)
			}()
			m.release(s.LockKey, j)
		}
		stopBeat()
		admitted() // before the job shows ended: a client that saw it end may start another
		m.finish(j, s.Title, err)
	}()
	return job.Ref(), act.Ref(), nil
}

var errEngineStopped = errors.New("the engine is stopping")

// EngineStop is who canceled a job that the engine's graceful stop ended
// (Manager.Stop): the job ends CANCELED, as a Delphix engine's job state
// says for a job that was stopped rather than one whose work failed, with
// events saying that the engine stopped (docs/engine.md, "Running it").
const EngineStop = "the engine's stop"

// markCanceled records who canceled the job and reports whether this was
// the first cancel (a later one, by a user or the engine's stop, changes
// nothing).
func (j *Job) markCanceled(by string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.canceled != "" {
		return false
	}
	j.canceled = by
	return true
}

// stopping cancels the job because the engine is stopping, unless a user
// canceled it already.
func (j *Job) stopping() {
	if j.markCanceled(EngineStop) {
		j.Info("event.job.canceling", fmt.Sprintf("Canceling %s: the engine is stopping (dvp engine serve got SIGINT, SIGTERM or SIGHUP); stopping the plugin operation and its commands.", j.title))
	}
	j.cancel(errEngineStopped)
}

// finish records the end of a job: CANCELED when it was canceled (even
// if its workflow got to the end), else FAILED or COMPLETED.
func (m *Manager) finish(j *Job, title string, err error) {
	j.closeOutput()
	m.mu.Lock()
	delete(m.running, j.Ref())
	m.mu.Unlock()
	end := store.FormatTime(m.clock())
	j.mu.Lock()
	j.percent = 100
	by, rolledBack, result := j.canceled, j.rolledBack, j.Result
	j.mu.Unlock()
	switch {
	case by == EngineStop && err != nil:
		msg := fmt.Sprintf("%s: canceled because the engine stopped (a graceful stop of dvp engine serve).", title)
		if rolledBack != "" {
			msg += " " + rolledBack
		} else {
			msg += " Run it again once the engine is back."
		}
		j.finish("CANCELED", end, "event.job.canceled", msg, nil, "INFO", &msg, nil, nil)
		m.log.Info("job canceled by the engine's stop", "job", j.Ref(), "title", title)
	case by != "" && err != nil:
		msg := fmt.Sprintf("%s: canceled by %s.", title, by)
		if rolledBack != "" {
			msg += " " + rolledBack
		}
		j.finish("CANCELED", end, "event.job.canceled", msg, nil, "INFO", &msg, nil, nil)
		m.log.Info("job canceled", "job", j.Ref(), "title", title, "by", by)
	case err != nil:
		details, action, code := m.describe(err)
		details, action = m.redactor.Redact(details), m.redactor.Redact(action)
		j.finish("FAILED", end, "event.job.failed", details, &action, "ERROR", &details, &action, &code)
		m.log.Info("job failed", "job", j.Ref(), "title", title, "error", details)
	default:
		msg := title + ": done."
		if result != "" {
			msg = fmt.Sprintf("%s: done (%s).", title, result)
		}
		if by == EngineStop {
			msg += " The engine's stop came too late to cancel it: the job had done its work."
		} else if by != "" {
			msg += fmt.Sprintf(" The cancellation by %s came too late: the job had done its work.", by)
		}
		j.finish("COMPLETED", end, "event.job.completed", msg, nil, "INFO", nil, nil, nil)
	}
}

// acquire waits for the lock of key ("" none), saying which job it is
// queued behind while it waits; it fails when ctx ends first.
func (m *Manager) acquire(ctx context.Context, key string, j *Job) error {
	if key == "" {
		return nil
	}
	m.mu.Lock()
	slot, ok := m.slots[key]
	if !ok {
		slot = make(chan struct{}, 1)
		m.slots[key] = slot
	}
	holder := m.holders[key]
	m.mu.Unlock()
	select {
	case slot <- struct{}{}:
	default:
		j.mu.Lock()
		j.queued = true
		j.mu.Unlock()
		if holder != nil {
			j.Info("event.job.queued", fmt.Sprintf("Queued behind %s (%s): this job starts when it ends.", holder.Ref(), holder.title))
		} else {
			j.Info("event.job.queued", "Queued behind another job on the same object: this job starts when it ends.")
		}
		select {
		case slot <- struct{}{}:
		case <-ctx.Done():
			j.RolledBack("It was queued and had not started: nothing changed.")
			return context.Cause(ctx)
		}
		j.mu.Lock()
		j.queued = false
		j.mu.Unlock()
		j.Info("event.job.dequeued", "No longer queued: the job runs now.")
	}
	m.mu.Lock()
	m.holders[key] = j
	m.mu.Unlock()
	return nil
}

func (m *Manager) release(key string, j *Job) {
	if key == "" {
		return
	}
	m.mu.Lock()
	if m.holders[key] == j {
		delete(m.holders, key)
	}
	slot := m.slots[key]
	m.mu.Unlock()
	<-slot
}

// beat records a heartbeat event every m.heartbeat until the returned
// function is called.
func (m *Manager) beat(j *Job, start time.Time) (stop func()) {
	if m.heartbeat <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(m.heartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				elapsed := m.clock().Sub(start).Round(time.Second)
				j.mu.Lock()
				queued := j.queued
				j.mu.Unlock()
				what := "Still running"
				if queued {
					what = "Still queued"
				}
				j.Info("event.job.heartbeat", fmt.Sprintf("%s: %s (%s elapsed).", what, j.title, elapsed))
			}
		}
	}()
	return func() { close(done); <-ended }
}

// ErrNotRunning is Cancel's error for a job that is not running (it ended,
// or it is not one this manager runs).
var ErrNotRunning = errors.New("the job is not running")

// Cancel cancels the running job ref on behalf of by (a user): its
// context ends, so the plugin operation and the commands it runs are
// stopped, and the job ends CANCELED once its workflow has put its object
// back in a defined state. A queued job ends without running.
func (m *Manager) Cancel(ref, by string) error {
	m.mu.Lock()
	j, ok := m.running[ref]
	m.mu.Unlock()
	if !ok {
		return ErrNotRunning
	}
	if j.markCanceled(by) {
		j.Info("event.job.canceling", fmt.Sprintf("Canceling %s at the request of %s: stopping the plugin operation and its commands.", j.title, by))
		j.cancel(fmt.Errorf("the job %s was canceled by %s", ref, by))
	}
	return nil
}

// Queued tells whether the running job ref waits behind another one.
func (m *Manager) Queued(ref string) bool {
	m.mu.Lock()
	j, ok := m.running[ref]
	m.mu.Unlock()
	if !ok {
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.queued
}

// Cancelable tells whether the job ref is one Cancel can cancel.
func (m *Manager) Cancelable(ref string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.running[ref]
	return ok
}

// Attach returns the Job of an action and job that run outside Start (an
// upgrade), at percent.
func (m *Manager) Attach(act *store.Action, job *store.Job, percent float64) *Job {
	return &Job{m: m, act: act, job: job, title: job.Title, percent: percent}
}

// Track counts a job that runs outside Start until done is called, so
// that Wait waits for it too.
func (m *Manager) Track() (done func()) {
	m.wg.Add(1)
	return m.wg.Done
}

// Stop cancels the running jobs (their contexts end), which end CANCELED
// saying that the engine stopped; Wait waits for them.
func (m *Manager) Stop() { m.once.Do(func() { close(m.stop) }) }

// Wait waits for the running jobs.
func (m *Manager) Wait() { m.wg.Wait() }
