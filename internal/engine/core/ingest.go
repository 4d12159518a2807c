package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/pluginhost"
)

// Upload is a received and scanned artifact.
type Upload struct {
	Fields   *artifact.Fields
	Problems diag.List    // of the scan
	Source   *store.Spool // the decoded sourceCode
	SHA256   string       // of the artifact file
	Size     int64
	Filename string
}

// NewSourceSpool is the spool of an upload's decoded sourceCode (in
// memory while it is small, else a file in the data directory).
func (e *Engine) NewSourceSpool() *store.Spool { return e.store.NewSourceSpool() }

// Ingest validates a received artifact and installs it: at once for a new
// plugin (a completed action), through a job for an upgrade, which then
// owns up.Source (handedOff is true).
func (e *Engine) Ingest(caller Caller, up *Upload) (_ Started, handedOff bool, _ error) {
	ctx := context.Background() // the installation must not stop if the client goes
	start := time.Now()
	a, ps, err := e.checkUpload(caller, up)
	if err != nil {
		return Started{}, false, err
	}
	// The code is synced to disk by the installation (store.Install),
	// while its write waits for the writer.
	e.cfg.Log.Debug("artifact checked", "plugin", a.Name, "build", a.BuildNumber, "code_bytes", up.Source.Size(),
		"check_took", time.Since(start).Round(time.Millisecond))
	a.PluginID = strings.ToLower(a.PluginID)
	meta := *a
	meta.SourceCode = ""
	metaJSON, err := artifact.Marshal(&meta)
	if err != nil {
		return Started{}, false, internalErr(err)
	}
	now := store.FormatTime(e.cfg.Clock())
	row := &store.Toolkit{PluginID: a.PluginID, Name: a.Name, BuildNumber: a.BuildNumber, SourceSize: up.Source.Size(),
		ArtifactSHA256: up.SHA256, ArtifactJSON: string(metaJSON), Installed: now, Updated: now}
	installed, err := e.store.ToolkitByPluginID(ctx, a.PluginID)
	if err != nil {
		return Started{}, false, internalErr(err)
	}
	if installed == nil {
		st, err := e.installNew(ctx, caller, up, row, a, ps.Warnings())
		return st, false, err
	}
	return e.startUpgrade(ctx, caller, up, row, a, installed, ps.Warnings())
}

// checkUpload checks the uploaded artifact: the problems of its scan,
// its fields, its code. It returns the artifact and the problems (its
// warnings), or the refusal, which names every error.
func (e *Engine) checkUpload(caller Caller, up *Upload) (*artifact.Artifact, diag.List, error) {
	fields, ps, src, filename := up.Fields, up.Problems, up.Source, up.Filename
	var a *artifact.Artifact
	if len(ps) == 0 {
		var fps diag.List
		a, fps = artifact.CheckFields(fields, artifact.CheckOptions{EngineAPI: artifact.EngineAPIVersion, CompileSchema: e.compiled.check})
		ps = append(ps, fps...)
		if a != nil {
			if _, zps := artifact.CheckSourceZip(src.ReaderAt(), src.Size(), artifact.ZipLimits{MaxUncompressed: e.cfg.MaxSourceBytes}); len(zps) > 0 {
				ps = append(ps, zps...)
				a = nil
			}
		}
	}
	if errs := ps.Errors(); len(errs) > 0 || a == nil {
		pluginID := ""
		if fields != nil {
			var id string
			if json.Unmarshal(fields.Values["pluginId"], &id) == nil && artifact.PluginIDPattern().MatchString(id) {
				pluginID = strings.ToLower(id)
			}
		}
		details := fmt.Sprintf("The plugin artifact %q was refused: %d problem(s):\n%s", filename, len(errs), errs.String())
		e.pluginLog(pluginID, "upload of %q by %s refused (artifact sha256 %s, %d bytes):\n%s", filename, caller.User, up.SHA256, up.Size, indent(errs.String()))
		return nil, nil, newErr(Invalid, "exception.toolkit.invalid.artifact", details,
			"Fix the problems listed, build the plugin again with 'dvp build' and upload the new artifact.json.")
	}
	return a, ps, nil
}

// installNew installs the first build of a plugin (row), with its
// completed action, in one transaction; a build installed meanwhile by a
// concurrent upload makes it an upgrade, checked as one.
func (e *Engine) installNew(ctx context.Context, caller Caller, up *Upload, row *store.Toolkit, a *artifact.Artifact, warnings diag.List) (Started, error) {
	who := caller.User
	// The action is written in the installing transaction (one commit).
	act := &store.Action{ActionType: "TOOLKIT_UPLOAD", Title: fmt.Sprintf("Upload plugin %q", a.Name),
		State: "COMPLETED", UserRef: caller.UserRef, StartTime: row.Installed}
	insertAction := e.store.InsertActionTx(act)
	var replaced *store.Toolkit
	out, err := e.store.Install(ctx, a.PluginID, up.Source, func(cur *store.Toolkit) (*store.Toolkit, error) {
		replaced = cur
		if cur != nil { // installed meanwhile by a concurrent upload: an upgrade
			if refused := e.upgradeRefusal(cur, a); refused != nil {
				return nil, refused
			}
		}
		return row, nil
	}, func(ctx context.Context, tx *store.Tx) error {
		act.Details = fmt.Sprintf("Installed plugin %q (%s) build %s as %s.", a.Name, a.PluginID, a.BuildNumber, row.Ref())
		act.EndTime = store.Text(store.FormatTime(e.cfg.Clock()))
		return insertAction(ctx, tx)
	})
	var refused *Error
	if errors.As(err, &refused) {
		e.pluginLog(a.PluginID, "upload of build %s by %s refused: %s", a.BuildNumber, who, refused.Details)
		return Started{}, refused
	}
	if err != nil {
		return Started{}, internalErr(err)
	}
	if replaced != nil {
		e.retireBinaries(ctx, replaced.SourceSHA256)
	}
	e.pluginLog(a.PluginID, "%s: plugin %q build %s installed as %s by %s (artifact %q, sha256 %s, %d bytes; code sha256 %s)%s",
		act.Ref(), a.Name, a.BuildNumber, out.Ref(), who, up.Filename, row.ArtifactSHA256, up.Size, out.SourceSHA256, warningText(warnings))
	e.cfg.Log.Info("plugin installed", "plugin", a.Name, "id", a.PluginID, "build", a.BuildNumber, "ref", out.Ref())
	return Started{Action: act.Ref()}, nil
}

// startUpgrade upgrades the installed plugin to the build of row: at once
// (upgradeNow) when the build brings no new migration, else through the
// upgrade job (runUpgrade), which then owns up.Source (handedOff).
func (e *Engine) startUpgrade(ctx context.Context, caller Caller, up *Upload, row *store.Toolkit, a *artifact.Artifact, installed *store.Toolkit, warnings diag.List) (_ Started, handedOff bool, _ error) {
	who, now := caller.User, row.Installed
	old, err := installed.Artifact()
	if err != nil {
		return Started{}, false, internalErr(err)
	}
	if refused := upgradeRefusalFrom(old, a); refused != nil {
		e.pluginLog(a.PluginID, "upload of build %s by %s refused: %s", a.BuildNumber, who, refused.Details)
		return Started{}, false, refused
	}
	if len(newMigrationIDs(old, a)) == 0 {
		// Nothing for a plugin to run: the upgrade is done before the
		// answer, in one transaction.
		st, err := e.upgradeNow(ctx, caller, up.Source, row, a, installed, old, up.Filename, warnings)
		return st, false, err
	}
	act := &store.Action{ActionType: "TOOLKIT_UPLOAD", Title: fmt.Sprintf("Upgrade plugin %q", a.Name),
		Details: upgradeWords("Upgrade", fmt.Sprintf("%q (%s)", a.Name, a.PluginID), old.BuildNumber, a.BuildNumber),
		State:   "RUNNING", UserRef: caller.UserRef, StartTime: now}
	job := &store.Job{ActionType: "TOOLKIT_UPGRADE", Title: act.Title, State: "RUNNING", UserRef: caller.UserRef, StartTime: now, UpdateTime: now}
	job.Target, job.TargetName = store.Text(installed.Ref()), store.Text(a.Name)
	if err := e.store.InsertActionWithJob(ctx, act, job); err != nil {
		return Started{}, false, internalErr(err)
	}
	done := e.jobs.Track()
	go func() {
		defer done()
		e.runUpgrade(&upgrade{act: act, job: job, src: up.Source, row: row, a: a, old: old, who: who, filename: up.Filename, warnings: warnings})
	}()
	return Started{Job: job.Ref(), Action: act.Ref()}, true, nil
}

// upgradeNow upgrades a plugin to a build that brings no new migration:
// the checks, the new row, the action and the job with its events are
// written in the one transaction that installs the build (one commit), so
// the job is COMPLETED when the answer names it. The upgrade guard runs in
// that transaction: the stored objects must match the new build's schemas
// as they are. A refusal (the rules, or a build installed meanwhile by a
// concurrent upload) stores nothing and is the answer.
func (e *Engine) upgradeNow(ctx context.Context, caller Caller, src *store.Spool, row *store.Toolkit, a *artifact.Artifact, installed *store.Toolkit, old *artifact.Artifact, filename string, warnings diag.List) (Started, error) {
	now := row.Installed
	act := &store.Action{ActionType: "TOOLKIT_UPLOAD", Title: fmt.Sprintf("Upgrade plugin %q", a.Name),
		Details: upgradeWords("Upgrade", fmt.Sprintf("%q (%s)", a.Name, a.PluginID), old.BuildNumber, a.BuildNumber),
		State:   "COMPLETED", UserRef: caller.UserRef, StartTime: now}
	act.EndTime = store.Text(now)
	job := &store.Job{ActionType: "TOOLKIT_UPGRADE", Title: act.Title, State: "COMPLETED", UserRef: caller.UserRef, StartTime: now, UpdateTime: now}
	job.TargetName = store.Text(a.Name)
	event := func(code, details, kind string, percent float64) store.JobEvent {
		return store.JobEvent{Timestamp: now, MessageCode: code, Details: details, EventType: kind, Percent: percent}
	}
	var atInstall *store.Toolkit // the row installed when the new one is written
	var events []store.JobEvent
	out, err := e.store.Install(ctx, a.PluginID, src, func(cur *store.Toolkit) (*store.Toolkit, error) {
		atInstall = cur
		from := old // checked already, unless another build was installed since
		if cur != nil && cur.ArtifactSHA256 != installed.ArtifactSHA256 {
			var err error
			if from, err = cur.Artifact(); err != nil {
				return nil, err
			}
			if refused := upgradeRefusalFrom(from, a); refused != nil {
				return nil, refused
			}
		}
		events = []store.JobEvent{event("event.toolkit.upgrade.started", upgradeWords("Upgrading", strconv.Quote(a.Name), from.BuildNumber, a.BuildNumber), "INFO", 0)}
		for _, wp := range warnings {
			events = append(events, event("event.toolkit.upgrade.warning", "Warning: "+wp.Detail(), "WARNING", 10))
		}
		events = append(events,
			event("event.toolkit.upgrade.validated", fmt.Sprintf("Build %s passed the upgrade checks (the build number does not decrease; all %d migration id(s) of build %s are kept).", a.BuildNumber, len(from.Manifest.MigrationIDList), from.BuildNumber), "INFO", 50),
			event("event.toolkit.upgrade.completed", fmt.Sprintf("Plugin %q is now at build %s.", a.Name, a.BuildNumber), "INFO", 100))
		events[len(events)-1].State = store.Text("COMPLETED")
		return row, nil
	}, func(ctx context.Context, tx *store.Tx) error {
		if atInstall != nil {
			err := e.store.CheckToolkitObjects(atInstall.Ref(), func(objs []store.StoredObject) error {
				if refused := upgradeGuardRefusal(old, a, e.guardProblems(atInstall, row, a, objs)); refused != nil {
					return refused
				}
				return nil
			})(ctx, tx)
			if err != nil {
				return err
			}
		}
		job.Target = store.Text(row.Ref())
		return e.store.InsertActionWithJobTx(act, job, events...)(ctx, tx)
	})
	var refused *Error
	if errors.As(err, &refused) {
		e.pluginLog(a.PluginID, "upload of build %s by %s refused: %s", a.BuildNumber, caller.User, refused.Details)
		return Started{}, refused
	}
	if err != nil {
		return Started{}, internalErr(err)
	}
	if atInstall != nil {
		e.retireBinaries(ctx, atInstall.SourceSHA256)
	}
	e.pluginLog(a.PluginID, "%s: plugin %q upgraded from build %s to build %s (%s) by %s (artifact %q, sha256 %s; code sha256 %s)%s",
		act.Ref(), a.Name, old.BuildNumber, a.BuildNumber, out.Ref(), caller.User, filename, row.ArtifactSHA256, out.SourceSHA256, warningText(warnings))
	e.cfg.Log.Info("plugin upgraded", "plugin", a.Name, "id", a.PluginID, "from", old.BuildNumber, "to", a.BuildNumber)
	return Started{Job: job.Ref(), Action: act.Ref()}, nil
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

func warningText(ws diag.List) string {
	if len(ws) == 0 {
		return ""
	}
	return "; warnings:\n" + indent(ws.String())
}

// upgradeRefusal applies the upgrade rules to an upload of a over the
// installed row; nil means the upgrade may go on.
func (e *Engine) upgradeRefusal(installed *store.Toolkit, a *artifact.Artifact) *Error {
	old, err := installed.Artifact()
	if err != nil {
		return internalErr(err)
	}
	return upgradeRefusalFrom(old, a)
}

// upgradeRefusalFrom is upgradeRefusal with the installed artifact
// decoded.
func upgradeRefusalFrom(old, a *artifact.Artifact) *Error {
	ps := artifact.CheckUpgrade(old, a)
	if len(ps) == 0 {
		return nil
	}
	return newErr(Invalid, "exception.toolkit.upgrade.refused",
		fmt.Sprintf("Plugin %q cannot be upgraded from build %s to build %s: %d problem(s):\n%s", old.Name, old.BuildNumber, a.BuildNumber, len(ps), ps.String()),
		"Build the plugin with a build number at least as high as the installed one, keeping every migration of the installed build, and upload it again.")
}

// upgrade is an upgrade job of Ingest: the build to install (a, its row
// and its decoded code), the one installed when the upload was answered
// (old), the job's action and job, and its events not written yet.
type upgrade struct {
	act      *store.Action
	job      *store.Job
	src      *store.Spool
	row      *store.Toolkit
	a, old   *artifact.Artifact
	who      string // the uploading user
	filename string // of the artifact
	warnings diag.List
	// The job's events wait in pending and are written with the job's
	// end in the transaction that installs the build (or records the
	// failure): an upgrade without migrations commits once after its
	// start. They are written before migrations run, which take the
	// plugin's time.
	pending []store.JobEvent
}

// upgradeEvent adds an event to the upgrade job's pending events.
func (e *Engine) upgradeEvent(u *upgrade, code, details string, action *string, kind string, percent float64, state string) {
	u.pending = append(u.pending, e.newJobEvent(code, details, action, kind, percent, state))
}

// newJobEvent is an event of a job at this moment: with an action when
// action is set, with a state unless state is RUNNING.
func (e *Engine) newJobEvent(code, details string, action *string, kind string, percent float64, state string) store.JobEvent {
	ev := store.JobEvent{Timestamp: store.FormatTime(e.cfg.Clock()), MessageCode: code, Details: details, EventType: kind, Percent: percent}
	if action != nil {
		ev.Action = store.Text(*action)
	}
	if state != "RUNNING" {
		ev.State = store.Text(state)
	}
	return ev
}

// flushUpgradeEvents writes the job's pending events.
func (e *Engine) flushUpgradeEvents(ctx context.Context, u *upgrade) {
	if len(u.pending) == 0 {
		return
	}
	if err := e.store.WriteEvents(ctx, u.job.ID, "RUNNING", u.pending...); err != nil {
		e.cfg.Log.Error("recording a job event", "job", u.job.Ref(), "error", err)
	}
	u.pending = nil
}

// runUpgrade is the upgrade job, which Ingest runs in the background: it
// records its steps as job events and installs the new build, checking
// the rules again against whatever is installed at that moment.
func (e *Engine) runUpgrade(u *upgrade) {
	defer u.src.Discard()
	ctx := context.Background()
	a, old := u.a, u.old
	e.upgradeEvent(u, "event.toolkit.upgrade.started", upgradeWords("Upgrading", strconv.Quote(a.Name), old.BuildNumber, a.BuildNumber), nil, "INFO", 0, "RUNNING")
	for _, wp := range u.warnings {
		e.upgradeEvent(u, "event.toolkit.upgrade.warning", "Warning: "+wp.Detail(), nil, "WARNING", 10, "RUNNING")
	}
	var out, atInstall *store.Toolkit
	plan, err := e.checkUpgrade(ctx, u)
	if err == nil {
		out, atInstall, err = e.installUpgrade(ctx, u, plan)
	}
	if err != nil {
		e.failUpgrade(ctx, u, err)
		return
	}
	if atInstall != nil {
		e.retireBinaries(ctx, atInstall.SourceSHA256)
	}
	e.pluginLog(a.PluginID, "%s: plugin %q upgraded from build %s to build %s (%s) by %s (artifact %q, sha256 %s; code sha256 %s)%s",
		u.act.Ref(), a.Name, old.BuildNumber, a.BuildNumber, out.Ref(), u.who, u.filename, u.row.ArtifactSHA256, out.SourceSHA256, warningText(u.warnings))
	e.cfg.Log.Info("plugin upgraded", "plugin", a.Name, "id", a.PluginID, "from", old.BuildNumber, "to", a.BuildNumber)
}

// checkUpgrade checks the upgrade again against the build installed now
// and, when the new build brings migrations, runs them on the stored
// objects (planMigrations): the plan is what they made, nil without.
func (e *Engine) checkUpgrade(ctx context.Context, u *upgrade) (*migrationPlan, error) {
	a, old := u.a, u.old
	cur, err := e.store.ToolkitByPluginID(ctx, a.PluginID)
	if err != nil {
		return nil, err
	}
	if cur != nil {
		if refused := e.upgradeRefusal(cur, a); refused != nil {
			return nil, refused
		}
	}
	n := len(old.Manifest.MigrationIDList)
	e.upgradeEvent(u, "event.toolkit.upgrade.validated", fmt.Sprintf("Build %s passed the upgrade checks (the build number does not decrease; all %d migration id(s) of build %s are kept).", a.BuildNumber, n, old.BuildNumber), nil, "INFO", 50, "RUNNING")
	ids := newMigrationIDs(old, a)
	if len(ids) == 0 || cur == nil {
		return nil, nil
	}
	e.flushUpgradeEvents(ctx, u)
	j := e.jobs.Attach(u.act, u.job, 50)
	codePath, err := u.src.Path()
	if err != nil {
		return nil, fmt.Errorf("spooling the plugin's code: %w", err)
	}
	plan, err := e.planMigrations(ctx, j, cur, u.row, a, u.src.Sum(), codePath, ids)
	if err == nil && len(plan.newDocs) > 0 {
		e.upgradeEvent(u, "event.toolkit.upgrade.migrated", fmt.Sprintf("Ran the new migration(s) %s on the plugin's stored objects: %s.", strings.Join(ids, ", "), strings.Join(plan.summary, ", ")), nil, "INFO", 75, "RUNNING")
	}
	return plan, err
}

// installUpgrade installs the new build in one transaction with the
// migrated objects of plan, the upgrade guard and the job's end, checking
// the upgrade again under the store's lock. atInstall is the row that was
// installed then.
func (e *Engine) installUpgrade(ctx context.Context, u *upgrade, plan *migrationPlan) (out, atInstall *store.Toolkit, err error) {
	a, old := u.a, u.old
	var migrated store.TxStep
	if plan != nil && len(plan.newDocs) > 0 {
		migrated = plan.apply(e.store)
	}
	// The upgrade guard, in the installing transaction: the stored
	// objects, migrated or not, must match the new build's schemas.
	guard := func(ctx context.Context, tx *store.Tx) error {
		if atInstall == nil {
			return nil
		}
		return e.store.CheckToolkitObjects(atInstall.Ref(), func(objs []store.StoredObject) error {
			if refused := upgradeGuardRefusal(old, a, e.guardProblems(atInstall, u.row, a, objs)); refused != nil {
				return refused
			}
			return nil
		})(ctx, tx)
	}
	// The job ends in the installing transaction.
	completed := e.newJobEvent("event.toolkit.upgrade.completed", fmt.Sprintf("Plugin %q is now at build %s.", a.Name, a.BuildNumber), nil, "INFO", 100, "COMPLETED")
	finish := e.store.FinishJobTx(store.Finish{JobID: u.job.ID, ActionID: u.act.ID, State: "COMPLETED",
		Events: append(append([]store.JobEvent(nil), u.pending...), completed), End: store.FormatTime(e.cfg.Clock())})
	// install checks again under the store's lock: another upload may
	// have landed in between.
	out, err = e.store.Install(ctx, a.PluginID, u.src, func(cur *store.Toolkit) (*store.Toolkit, error) {
		atInstall = cur
		if cur != nil {
			if refused := e.upgradeRefusal(cur, a); refused != nil {
				return nil, refused
			}
		}
		if migrated != nil && (cur == nil || cur.ArtifactSHA256 != plan.artifactSHA256) {
			return nil, &jobError{Code: "exception.toolkit.upgrade.conflict",
				Message: "Another build of the plugin was installed while the migrations ran, so this upgrade stops and nothing changes.",
				Action:  "Upload the plugin again."}
		}
		return u.row, nil
	}, store.Chain(migrated, guard, finish))
	return out, atInstall, err
}

// failUpgrade ends the upgrade job FAILED with what err says and how to
// go on, and removes the new build's executable, extracted for its
// migrations.
func (e *Engine) failUpgrade(ctx context.Context, u *upgrade, err error) {
	end := store.FormatTime(e.cfg.Clock())
	details, action, code := err.Error(), "Look at the engine's log, then upload the plugin again.", "exception.internal"
	var refused *Error
	var pe *pluginhost.PluginError
	var je *jobError
	switch {
	case errors.As(err, &refused):
		details, action, code = refused.Details, refused.Action, refused.ID
	case errors.As(err, &pe), errors.As(err, &je):
		// A migration failed (the plugin's error) or its result
		// does not fit the new schemas.
		details, action, code = describeFailure(err)
	}
	details, action = e.cfg.Redactor.Redact(details), e.cfg.Redactor.Redact(action)
	e.upgradeEvent(u, "event.toolkit.upgrade.failed", details, &action, "ERROR", 100, "FAILED")
	if ferr := e.store.FinishJob(ctx, store.Finish{JobID: u.job.ID, ActionID: u.act.ID, State: "FAILED", Events: u.pending, End: end,
		FailDesc: &details, FailAction: &action, FailCode: &code}); ferr != nil {
		e.cfg.Log.Error("finishing an action", "action", u.act.Ref(), "error", ferr)
	}
	e.pluginLog(u.a.PluginID, "%s: upgrade of plugin %q to build %s by %s failed: %s", u.act.Ref(), u.a.Name, u.a.BuildNumber, u.who, details)
	e.retireBinaries(ctx, u.src.Sum())
}

// Action returns an action as the API shows it.
func (e *Engine) Action(ctx context.Context, ref string) (*engineapi.Action, error) {
	a, err := e.store.Action(ctx, ref)
	if err != nil {
		return nil, internalErr(err)
	}
	if a == nil {
		return nil, actionNotFound(ref)
	}
	return actionObject(a), nil
}
func actionNotFound(ref string) error {
	return newErr(NotFound, "exception.webservices.object.notfound",
		fmt.Sprintf("The action %q does not exist.", ref), "Use the action reference an upload returned.")
}

// ActionJob returns the job of an action as the API shows it, with its
// events but the first since ones.
func (e *Engine) ActionJob(ctx context.Context, ref string, since int) (*engineapi.Job, error) {
	a, err := e.store.Action(ctx, ref)
	if err != nil {
		return nil, internalErr(err)
	}
	if a == nil {
		return nil, actionNotFound(ref)
	}
	if a.JobID == nil {
		return nil, newErr(NotFound, "exception.webservices.object.notfound",
			fmt.Sprintf("The action %q has no job.", a.Ref()), "Follow the action itself: its state says how it ended (dvp upload --wait does this).")
	}
	j, err := e.store.JobSince(ctx, *a.JobID, since)
	if err != nil {
		return nil, internalErr(err)
	}
	if j == nil {
		return nil, internalErr(fmt.Errorf("the job of %s is missing", a.Ref()))
	}
	return e.jobShown(j, a), nil
}

// upgradeWords says what an upload does to the installed plugin named
// (quoted) by name: an upgrade from one build to another, or the same build
// number again, which replaces the code and keeps the build.
func upgradeWords(verb, name, from, to string) string {
	if from == to {
		verb = map[string]string{"Upgrading": "Reinstalling", "Upgrade": "Reinstall"}[verb]
		return fmt.Sprintf("%s build %s of plugin %s.", verb, to, name)
	}
	return fmt.Sprintf("%s plugin %s from build %s to build %s.", verb, name, from, to)
}
