package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/sched"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// Policies (docs/engine.md, "Policies and retention"): a dSource may sync
// by itself (every DURATION, or on a cron schedule) and a VDB refresh by
// itself; either may keep only its newest N snapshots. The policy rows
// live in the store's policy table; a sched.Scheduler fires them and each
// due run starts the ordinary job of the operation, queued behind the
// container's other jobs. A policy sync passes null snapshot parameters to
// the plugin, as a Delphix engine's SnapSync policy does.

// policyOptions name a container type's policy options in messages.
var policyOptions = map[string]struct{ op, every, schedule string }{
	engineapi.ContainerDSource: {"sync", "--sync-every", "--sync-schedule"},
	engineapi.ContainerVDB:     {"refresh", "--refresh-every", "--refresh-schedule"},
}

const keepOption = "--keep-snapshots"

// policies is the engine's scheduler and what it knows of the runs.
type policies struct {
	sched  *sched.Scheduler
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex // serializes policy changes and due runs
	// lastJob is the job each container's policy started last: while it
	// has not ended (queued or running), a due run is skipped, never
	// queued twice.
	lastJob map[string]string
}

func (e *Engine) newPolicies(clock sched.Clock) *policies {
	if clock == nil {
		clock = sched.RealClock(e.cfg.Clock)
	}
	p := &policies{lastJob: map[string]string{}, done: make(chan struct{})}
	p.sched = sched.New(clock, e.firePolicy)
	return p
}

// policyRunKey marks the context of a job a policy started.
type policyRunKey struct{}

func isPolicyRun(ctx context.Context) bool { return ctx.Value(policyRunKey{}) != nil }

// StartPolicies schedules the stored policies and starts the scheduler:
// a policy that fell due while the engine was stopped runs once, at once
// (its job says so); the runs it missed are not caught up.
func (e *Engine) StartPolicies(ctx context.Context) error {
	rows, err := e.store.Policies(ctx)
	if err != nil {
		return err
	}
	for ref, p := range rows {
		var c engineapi.Container
		ok, err := e.store.GetObject(ctx, store.KindContainer, ref, &c)
		if err != nil {
			return err
		}
		if !ok { // its container was deleted by a stop in the middle
			if err := e.store.DeletePolicy(ctx, ref); err != nil {
				return err
			}
			continue
		}
		names := policyOptions[c.ContainerType]
		spec, err := sched.Parse(p.Every, p.Schedule, names.every, names.schedule)
		if err != nil {
			e.cfg.Log.Error("a stored policy cannot be read: it does not run", "container", ref, "error", err)
			continue
		}
		if spec.IsZero() {
			continue
		}
		next, _ := store.ParseTime(p.NextRun)
		if next.IsZero() {
			next = spec.Next(e.pol.sched.Clock().Now())
			p.NextRun = store.FormatTime(next)
			if err := e.store.PutPolicy(ctx, p); err != nil {
				return err
			}
		}
		e.pol.sched.Set(ref, spec, next)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	e.pol.cancel = cancel
	go func() {
		defer close(e.pol.done)
		e.pol.sched.Run(runCtx)
	}()
	return nil
}

// stopPolicies stops the scheduler and waits for it: no run starts after.
func (e *Engine) stopPolicies() {
	if e.pol.cancel == nil {
		return
	}
	e.pol.cancel()
	<-e.pol.done
}

// policyChange is a validated change of a container's policy.
type policyChange struct {
	row  *store.Policy // nil: the container has no policy any more
	spec sched.Spec
}

// checkPolicy applies p to the container's policy cur (nil: none) and
// validates the result; nothing is stored.
func checkPolicy(cur *store.Policy, ref, containerType string, p *engineapi.PolicyParameters) (*policyChange, error) {
	names := policyOptions[containerType]
	n := store.Policy{Container: ref}
	if cur != nil {
		n = *cur
	}
	fix := "Fix the option's value, then run the command again."
	if p.Every != nil && p.Schedule != nil && strings.TrimSpace(*p.Every) != "" && strings.TrimSpace(*p.Schedule) != "" {
		return nil, badRequest(fmt.Sprintf("Give %s or %s, not both.", names.every, names.schedule), "Choose one: an interval or a cron schedule.")
	}
	if p.Every != nil {
		if n.Every = strings.TrimSpace(*p.Every); n.Every != "" {
			n.Schedule = ""
		}
	}
	if p.Schedule != nil {
		if n.Schedule = strings.Join(strings.Fields(*p.Schedule), " "); n.Schedule != "" {
			n.Every = ""
		}
	}
	if p.KeepSnapshots != nil {
		if *p.KeepSnapshots < 0 {
			return nil, badRequest(fmt.Sprintf("%s %d is negative.", keepOption, *p.KeepSnapshots), "Give the number of snapshots to keep (at least 1), or 0 to keep them all.")
		}
		n.Keep = *p.KeepSnapshots
	}
	spec, err := sched.Parse(n.Every, n.Schedule, names.every, names.schedule)
	if err != nil {
		return nil, badRequest(fmt.Sprintf("The %s policy is not valid: %v.", names.op, err), fix)
	}
	if spec.Every > 0 {
		n.Every = spec.Every.String()
	}
	if cur == nil || n.Every != cur.Every || n.Schedule != cur.Schedule {
		n.NextRun = "" // a new schedule starts from now
	}
	if spec.IsZero() && n.Keep == 0 {
		return &policyChange{}, nil
	}
	return &policyChange{row: &n, spec: spec}, nil
}

// applyPolicy stores a checked change of the container ref's policy and
// schedules it; userRef is who made it (its runs are that user's jobs).
func (e *Engine) applyPolicy(ctx context.Context, ref, userRef string, ch *policyChange) error {
	e.pol.mu.Lock()
	defer e.pol.mu.Unlock()
	if ch.row == nil {
		e.pol.sched.Remove(ref)
		return e.store.DeletePolicy(ctx, ref)
	}
	row := *ch.row
	row.Container = ref
	if userRef != "" {
		row.UserRef = userRef
	}
	var next time.Time
	if ch.spec.IsZero() {
		row.NextRun = ""
	} else if next, _ = store.ParseTime(row.NextRun); next.IsZero() {
		next = ch.spec.Next(e.pol.sched.Clock().Now())
		row.NextRun = store.FormatTime(next)
	}
	// The row first: a due run reads it.
	if err := e.store.PutPolicy(ctx, &row); err != nil {
		return err
	}
	e.pol.sched.Set(ref, ch.spec, next)
	return nil
}

// UpdatePolicy changes the policy of a dSource or VDB (by reference or
// name) as p says, for the container update request: the change is
// validated first and nothing changes on a refusal.
func (e *Engine) UpdatePolicy(ctx context.Context, caller Caller, container string, p *engineapi.PolicyParameters) error {
	if p.IsZero() {
		return nil
	}
	var c engineapi.Container
	if err := e.find(ctx, store.KindContainer, "dSource or VDB", container, &c); err != nil {
		return err
	}
	ch, err := e.checkPolicyChange(ctx, &c, p)
	if err != nil {
		return err
	}
	return e.applyPolicyChange(ctx, caller, &c, ch)
}

// checkPolicyChange validates a change of c's policy (for a request that
// changes more than the policy: check everything, then apply).
func (e *Engine) checkPolicyChange(ctx context.Context, c *engineapi.Container, p *engineapi.PolicyParameters) (*policyChange, error) {
	cur, err := e.store.PolicyOf(ctx, c.Reference)
	if err != nil {
		return nil, internalErr(err)
	}
	return checkPolicy(cur, c.Reference, c.ContainerType, p)
}

// applyPolicyChange stores a change checkPolicyChange validated.
func (e *Engine) applyPolicyChange(ctx context.Context, caller Caller, c *engineapi.Container, ch *policyChange) error {
	if ch == nil || (ch.row == nil && c.Policy == nil && !e.hasPolicy(ctx, c.Reference)) {
		return nil
	}
	if err := e.applyPolicy(ctx, c.Reference, caller.UserRef, ch); err != nil {
		return internalErr(err)
	}
	return nil
}

// forgetPolicy removes a deleted container's policy.
func (e *Engine) forgetPolicy(ctx context.Context, ref string) {
	e.pol.mu.Lock()
	defer e.pol.mu.Unlock()
	e.pol.sched.Remove(ref)
	delete(e.pol.lastJob, ref)
	if err := e.store.DeletePolicy(ctx, ref); err != nil {
		e.cfg.Log.Error("deleting a policy", "container", ref, "error", err)
	}
}

// firePolicy is the scheduler's due run: it starts the container's sync
// (dSources) or refresh (VDBs) job, or records why it did not.
func (e *Engine) firePolicy(r sched.Run) {
	e.pol.mu.Lock()
	defer e.pol.mu.Unlock()
	ctx := context.Background()
	ref := r.Key
	row, err := e.store.PolicyOf(ctx, ref)
	if err != nil {
		e.cfg.Log.Error("reading a policy", "container", ref, "error", err)
		return
	}
	if row == nil {
		e.pol.sched.Remove(ref)
		return
	}
	var c engineapi.Container
	ok, err := e.store.GetObject(ctx, store.KindContainer, ref, &c)
	if err != nil {
		e.cfg.Log.Error("reading the container of a policy", "container", ref, "error", err)
		return
	}
	if !ok {
		e.pol.sched.Remove(ref)
		e.store.DeletePolicy(ctx, ref)
		return
	}
	names := policyOptions[c.ContainerType]
	kind := containerNames[c.ContainerType]
	next, due := store.FormatTime(r.Next), store.FormatTime(r.Due)
	skip := func(why string) {
		note := fmt.Sprintf("The %s due at %s did not run: %s.", names.op, due, why)
		e.cfg.Log.Info("a policy run was skipped", "container", c.Name, "why", note)
		if err := e.store.PolicyRan(ctx, ref, next, due, "", note); err != nil {
			e.cfg.Log.Error("recording a policy run", "container", ref, "error", err)
		}
	}
	switch {
	case !c.Enabled:
		skip(fmt.Sprintf("the %s is disabled", kind))
		return
	case e.pol.lastJob[ref] != "" && e.jobs.Cancelable(e.pol.lastJob[ref]):
		skip(fmt.Sprintf("the %s its policy started before (%s) had not ended", names.op, e.pol.lastJob[ref]))
		return
	}
	spec, _ := sched.Parse(row.Every, row.Schedule, names.every, names.schedule)
	title := fmt.Sprintf("%s %s %q (policy)", strings.ToUpper(names.op[:1])+names.op[1:], kind, c.Name)
	op := containerOps[names.op]
	s, err := e.startJob(Caller{UserRef: row.UserRef}, op.actionType, title, ref, c.Name, ref, ref, func(ctx context.Context, j *jobs.Job) error {
		what := fmt.Sprintf("The %s policy of %s (%s) runs this %s, due at %s.", names.op, c.Name, spec, names.op, due)
		if names.op == "sync" {
			what += " Its snapshot parameters are null, as those of a policy sync on a Delphix engine."
		}
		j.Info("event.policy.run", what)
		if r.Missed {
			j.Event("event.policy.missed", fmt.Sprintf("This %s fell due at %s while the engine was stopped: the runs missed then are not caught up, this one stands for them all.", names.op, due),
				nil, "WARNING", "RUNNING")
		}
		ctx = context.WithValue(ctx, policyRunKey{}, true)
		var snap engineapi.Snapshot
		if op.snapshot != noSnapshot {
			var err error
			if snap, err = e.opSnapshotOf(ctx, &c, op.snapshot, ""); err != nil {
				return err
			}
		}
		return op.run(e, ctx, j, &c, engineapi.ContainerOpParameters{}, &snap)
	})
	if err != nil {
		e.cfg.Log.Error("starting a policy job", "container", ref, "error", err)
		return
	}
	e.pol.lastJob[ref] = s.Job
	if err := e.store.PolicyRan(ctx, ref, next, due, s.Job, ""); err != nil {
		e.cfg.Log.Error("recording a policy run", "container", ref, "error", err)
	}
}

// policyView is a container's policy as the API shows it (nil: none).
func policyView(containerType string, row *store.Policy) *engineapi.Policy {
	if row == nil {
		return nil
	}
	return &engineapi.Policy{Operation: policyOptions[containerType].op, Every: row.Every, Schedule: row.Schedule, KeepSnapshots: row.Keep,
		NextRun: row.NextRun, LastRun: row.LastRun, LastJob: row.LastJob, LastSkipped: row.LastNote}
}

// withPolicies adds its "policy" to each container document that has one.
func (e *Engine) withPolicies(ctx context.Context, docs []json.RawMessage) ([]json.RawMessage, error) {
	rows, err := e.store.Policies(ctx)
	if err != nil || len(rows) == 0 {
		return docs, err
	}
	for i, doc := range docs {
		var head struct {
			Reference     string `json:"reference"`
			ContainerType string `json:"containerType"`
		}
		if json.Unmarshal(doc, &head) != nil {
			continue
		}
		v := policyView(head.ContainerType, rows[head.Reference])
		if v == nil {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		d := bytes.TrimSpace(doc)
		if len(d) < 2 || d[len(d)-1] != '}' {
			continue
		}
		out := append([]byte{}, d[:len(d)-1]...)
		if len(bytes.TrimSpace(d[1:len(d)-1])) > 0 {
			out = append(out, ',')
		}
		out = append(out, `"policy":`...)
		out = append(out, b...)
		docs[i] = append(out, '}')
	}
	return docs, nil
}

// policyEvent records a container's policy in a job (status).
func (w *wf) policyEvent(ctx context.Context) {
	row, err := w.e.store.PolicyOf(ctx, w.c.Reference)
	if err != nil || row == nil {
		return
	}
	names := policyOptions[w.c.ContainerType]
	var parts []string
	if row.Every != "" || row.Schedule != "" {
		spec, _ := sched.Parse(row.Every, row.Schedule, names.every, names.schedule)
		parts = append(parts, fmt.Sprintf("%s policy %s; next %s at %s", names.op, spec, names.op, row.NextRun))
	}
	if row.Keep > 0 {
		parts = append(parts, fmt.Sprintf("keeps the newest %d snapshot(s)", row.Keep))
	}
	if row.LastNote != "" {
		parts = append(parts, row.LastNote)
	}
	w.j.Info("event.policy", fmt.Sprintf("%s: %s.", w.c.Name, strings.TrimSuffix(strings.Join(parts, "; "), ".")))
}

// orNoPolicy is p, or no change when nil.
func orNoPolicy(p *engineapi.PolicyParameters) *engineapi.PolicyParameters {
	if p == nil {
		return &engineapi.PolicyParameters{}
	}
	return p
}

func (e *Engine) hasPolicy(ctx context.Context, ref string) bool {
	row, err := e.store.PolicyOf(ctx, ref)
	return err != nil || row != nil
}

// updatePolicy is the policy part of an update job: p is checked again
// against the policy as it is now, applied, and the change recorded.
func (e *Engine) updatePolicy(ctx context.Context, j *jobs.Job, caller Caller, c *engineapi.Container, p *engineapi.PolicyParameters) error {
	if p.IsZero() {
		return nil
	}
	ch, err := e.checkPolicyChange(ctx, c, p)
	if err != nil {
		return err
	}
	if err := e.applyPolicyChange(ctx, caller, c, ch); err != nil {
		return err
	}
	names := policyOptions[c.ContainerType]
	what := fmt.Sprintf("it has no %s policy and keeps all its snapshots", names.op)
	if row, err := e.store.PolicyOf(ctx, c.Reference); err == nil && row != nil {
		var parts []string
		if row.Every == "" && row.Schedule == "" {
			parts = append(parts, fmt.Sprintf("it has no %s policy", names.op))
		} else {
			spec, _ := sched.Parse(row.Every, row.Schedule, names.every, names.schedule)
			parts = append(parts, fmt.Sprintf("its %s policy is %s (next %s at %s)", names.op, spec, names.op, row.NextRun))
		}
		if row.Keep > 0 {
			parts = append(parts, fmt.Sprintf("it keeps the newest %d snapshot(s)", row.Keep))
		} else {
			parts = append(parts, "it keeps all its snapshots")
		}
		what = strings.Join(parts, "; ")
	}
	j.Info("event.container.updated", fmt.Sprintf("%s %s: %s.", containerNames[c.ContainerType], c.Name, what))
	return nil
}
