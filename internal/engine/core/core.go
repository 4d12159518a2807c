// Package core is the local engine's domain: the workflows a request
// starts, as methods of Engine, testable without HTTP. It validates what a
// request asks against the stored objects and the plugin's schemas, stores
// objects (package store), runs jobs (package jobs) whose steps call the
// plugin and run commands on environments (package exec), and reports
// refusals as *Error values that carry the id, details and action the API
// shows; package api maps their Kind to an HTTP status.
//
// The services: users (EnsureAdmin, Login); plugins (Ingest of an upload,
// with the upgrade job and its data migrations; Toolkits, DeleteToolkit,
// Bundle of a plugin's logs); environments (CreateEnvironment with its
// check and discovery, RefreshEnvironment, DeleteEnvironment); source
// configs; dSources and VDBs (Link, Provision, and the container
// operations of one table, containerOps: sync, refresh, rollback,
// snapshot, start, stop, enable, disable, status, delete); actions and
// jobs as the API shows them.
//
// A request such as `dvp dsource sync` arrives in package api as POST
// delphix/database/{ref}/sync; api decodes the body and calls
// Engine.ContainerOp, which checks the request, starts a job and returns
// its references at once; the job loads the container, starts the plugin
// (exec.Runner), runs linked.pre_snapshot / post_snapshot, copies the
// storage into a snapshot and stores it (store), recording every step as
// a job event the client follows.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/sched"
	"github.com/dvpkit/dvp/internal/engine/secrets"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/logging"
	"github.com/dvpkit/dvp/internal/pluginhost"
)

// Config configures the engine's domain.
type Config struct {
	DataDir        string
	MaxSourceBytes int64 // limit of the uncompressed sourceCode ZIP
	BcryptCost     int   // 0: bcrypt.DefaultCost
	Clock          func() time.Time
	SchedClock     sched.Clock // the policies' scheduler's (nil: real timers on Clock)
	Log            *slog.Logger
	Redactor       *logging.Redactor
	// JobHeartbeat is how often a running job records that it still runs
	// (jobs.Options.Heartbeat).
	JobHeartbeat time.Duration
	// MaxJobs bounds the unfinished jobs clients started
	// (jobs.Options.MaxJobs).
	MaxJobs int
	// KeepJobs and KeepJobsFor bound the job history (PruneJobs): the
	// ended jobs kept beyond the protected ones, and how long; 0: no bound.
	KeepJobs    int
	KeepJobsFor time.Duration
	Home        string // the engine user's home directory (local environments' scratch paths)
	// EngineID tells this engine's scratch paths from other engines'
	// (store.EngineID).
	EngineID string
}

// Engine is the engine's domain: its workflows over a store.
type Engine struct {
	cfg    Config
	store  *store.Store
	keeper *secrets.Keeper
	runner *exec.Runner
	jobs   *jobs.Manager
	pol    *policies // the policies' scheduler (policies.go)
	// workers runs linked.worker at an interval (StartWorkers; nil: not
	// started).
	workers *workers
	// rendered caches the API form of the installed plugins (toolkits.go).
	rendered rendered
	// compiled remembers which uploaded schemas compile (schemacache.go).
	compiled compiledSchemas
}

// New returns the domain of an engine whose state is in st, whose secrets
// keeper is keeper and which runs plugins with runner.
func New(cfg Config, st *store.Store, keeper *secrets.Keeper, runner *exec.Runner) *Engine {
	e := &Engine{cfg: cfg, store: st, keeper: keeper, runner: runner}
	e.jobs = jobs.NewManager(jobs.Options{Store: st, Redactor: cfg.Redactor, Clock: cfg.Clock, Log: cfg.Log, Describe: describeFailure, Heartbeat: cfg.JobHeartbeat, MaxJobs: cfg.MaxJobs})
	e.pol = e.newPolicies(cfg.SchedClock)
	return e
}

// Stop stops the policies' scheduler and the workers and cancels the
// running jobs; Wait waits for them.
func (e *Engine) Stop() {
	e.stopPolicies()
	e.workers.close()
	e.jobs.Stop()
}

// Wait waits for the running jobs.
func (e *Engine) Wait() { e.jobs.Wait() }

// Kind classifies a refusal; package api maps it to an HTTP status.
type Kind int

// The kinds of refusal.
const (
	Invalid  Kind = iota + 1 // the request is wrong (400)
	NotFound                 // an object it names does not exist (404)
	Conflict                 // it conflicts with the engine's objects (409)
	Internal                 // the engine failed (500)
	Busy                     // the engine does all it may at once: try later (503)
	TooMany                  // the caller holds all it may at once (429)
)

// Error is a refusal of a request, with the id, details and action the
// API reports in its ErrorResult.
type Error struct {
	Kind    Kind
	ID      string // e.g. exception.webservices.object.notfound
	Details string
	Action  string
}

func (e *Error) Error() string { return e.Details }

func newErr(kind Kind, id, details, action string) *Error {
	return &Error{Kind: kind, ID: id, Details: details, Action: action}
}

func internalErr(err error) *Error {
	return newErr(Internal, "exception.internal", "The engine failed: "+err.Error()+".", "Look at the engine's log, then try again.")
}

func notFound(what, ref, how string) *Error {
	return newErr(NotFound, "exception.webservices.object.notfound",
		fmt.Sprintf("The %s %q does not exist on this engine.", what, ref), how)
}

func badRequest(details, action string) *Error {
	return newErr(Invalid, "exception.webservices.json.invalid", details, action)
}

func conflict(details, action string) *Error {
	return newErr(Conflict, "exception.object.conflict", details, action)
}

// Caller is who sent a request: the logged-in user and its reference.
type Caller struct {
	User, UserRef string
	// Session tells the client's session from others (not its cookie):
	// the jobs it starts count against its share of the engine's.
	Session string
	// ticket is the place reserveJob took for the request's job.
	ticket *jobs.Ticket
}

// Started is what a request that starts work answers: the job and the
// action (either may be empty) and the result, an object reference.
type Started struct {
	Job, Action, Result string
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
	var ae *Error
	var le *actionError
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

// startJob starts a job (jobs.Manager.Start) for the caller; result is
// the object reference the request answers with. A canceled job's object
// is rolled back (rollBack) before the job ends.
func (e *Engine) startJob(c Caller, actionType, title, target, targetName, lockKey, result string,
	run func(ctx context.Context, j *jobs.Job) error) (Started, error) {
	jobRef, actRef, err := e.jobs.Start(jobs.Spec{ActionType: actionType, Title: title, Target: target, TargetName: targetName,
		LockKey: lockKey, UserRef: c.UserRef, Owner: c.Session, Ticket: c.ticket}, func(ctx context.Context, j *jobs.Job) error {
		err := run(ctx, j)
		if err != nil && j.Canceled() {
			e.rollBack(j, actionType, target, targetName)
		}
		return err
	})
	if err != nil {
		return Started{}, jobRefusal(title, err)
	}
	return Started{Job: jobRef, Action: actRef, Result: result}, nil
}

// reserveJob takes the caller's place among the jobs clients start
// (--max-jobs) before a request makes the objects its job titled title
// works on (a dSource, a VDB, an environment), so that a refusal leaves
// nothing behind. Call the returned function when the request ends: it
// gives the place back unless startJob used it.
func (e *Engine) reserveJob(c Caller, title string) (Caller, func(), error) {
	t, err := e.jobs.Reserve(c.Session)
	if err != nil {
		return c, func() {}, jobRefusal(title, err)
	}
	c.ticket = t
	return c, t.Release, nil
}

// jobRefusal is the refusal of a job that jobs.Manager did not start.
func jobRefusal(title string, err error) error {
	var le *jobs.LimitError
	switch {
	case errors.As(err, &le) && le.Session:
		return newErr(TooMany, "exception.webservices.jobs.session.limit",
			fmt.Sprintf("%s was not started: %s.", title, le),
			"Wait for some of them to end (dvp job list) or cancel some (dvp job cancel), then try again; or start it from another session.")
	case errors.As(err, &le):
		return newErr(Busy, "exception.webservices.jobs.busy",
			fmt.Sprintf("%s was not started: %s.", title, le),
			"Wait for some of them to end (dvp job list) or cancel some (dvp job cancel), then try again; to allow more at once, start the engine with a larger --max-jobs.")
	}
	return internalErr(err)
}
