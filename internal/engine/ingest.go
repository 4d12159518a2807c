package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/schema"
)

// multipartSlack is what the multipart framing may add to the artifact.
const multipartSlack = 64 << 10

func tooLarge(limit int64) *APIError {
	return apiErr(http.StatusRequestEntityTooLarge, "exception.upload.too.large",
		fmt.Sprintf("The artifact is larger than this engine's upload limit of %d bytes.", limit),
		"Make the plugin smaller, or start the engine with a larger --max-upload-size.")
}

func malformedUpload(detail string) *APIError {
	return apiErr(http.StatusBadRequest, "exception.upload.malformed",
		"The upload is not a valid multipart/form-data request: "+detail+".",
		`Send a multipart/form-data body with a "token" part (from requestUploadToken) followed by a "file" part holding artifact.json, as dvp upload does.`)
}

// handleUpload receives an artifact: a multipart body with the token part
// and then the file part. The file is never held in memory nor stored: it
// is hashed and scanned as it arrives, its sourceCode decoded into a spool
// file in the data directory; then it is validated and installed.
func (e *Engine) handleUpload(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	start := time.Now()
	limit := e.cfg.MaxUploadBytes
	if r.ContentLength > limit+multipartSlack {
		return tooLarge(limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return malformedUpload(err.Error())
	}
	part, err := mr.NextPart()
	if err != nil {
		return malformedUpload(err.Error())
	}
	if part.FormName() != "token" {
		return malformedUpload(fmt.Sprintf(`the first part is %q, not "token"`, part.FormName()))
	}
	tb, err := io.ReadAll(io.LimitReader(part, 1024))
	if err != nil {
		return malformedUpload(err.Error())
	}
	token := strings.TrimSpace(string(tb))
	if _, err := e.uploads.consume(token, q.session.id); err != nil {
		return apiErr(http.StatusForbidden, "exception.upload.token.invalid",
			fmt.Sprintf("The upload token %q %v.", shorten(token, 40), err),
			"Request a new token with POST "+APIPrefix+"delphix/toolkit/requestUploadToken and upload again; dvp upload does this for you.")
	}
	part, err = mr.NextPart()
	if err != nil {
		return malformedUpload("the file part is missing: " + err.Error())
	}
	if part.FormName() != "file" {
		return malformedUpload(fmt.Sprintf(`the second part is %q, not "file"`, part.FormName()))
	}
	filename := part.FileName()
	if filename == "" {
		filename = artifact.ArtifactFileName
	}
	// One pass over the file part: it is hashed, scanned and its sourceCode
	// decoded into a spool file as it arrives; the artifact itself is
	// never stored.
	src, err := e.store.NewSpool("source")
	if err != nil {
		return internalErr(err)
	}
	handedOff := false
	defer func() {
		if !handedOff {
			src.Discard()
		}
	}()
	counter := &hashCounter{h: sha256.New()}
	body := io.TeeReader(io.LimitReader(part, limit+1), counter)
	var b64err, writeErr error
	fields, err := artifact.Scan(body, artifact.ScanOptions{SourceCode: func(r io.Reader) error {
		in := &errReader{r: r}
		dec := base64.NewDecoder(base64.StdEncoding, in)
		if _, err := io.CopyBuffer(&errWriter{w: src, err: &writeErr}, dec, make([]byte, 1<<20)); err != nil {
			switch {
			case in.err != nil: // reading the request failed
				return in.err
			case writeErr != nil:
				return writeErr
			}
			b64err = err
			return errBadBase64
		}
		return nil
	}})
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || counter.n > limit {
		return tooLarge(limit)
	}
	if writeErr != nil {
		return internalErr(fmt.Errorf("writing the plugin's code: %w", writeErr))
	}
	var ps diag.List
	var syn *artifact.JSONSyntaxError
	var big *artifact.FieldTooLargeError
	switch {
	case err == nil:
	case errors.Is(err, errBadBase64):
		ps = append(ps, diag.Problem{Severity: diag.Error, Pointer: "/sourceCode", Message: "is not valid base64: " + b64err.Error()})
	case errors.As(err, &syn):
		ps = append(ps, diag.Problem{Severity: diag.Error, Message: fmt.Sprintf("the file is not valid JSON (at byte %d: %s)", syn.Offset, syn.Msg)})
	case errors.Is(err, artifact.ErrNotObject):
		ps = append(ps, diag.Problem{Severity: diag.Error, Message: "the file is JSON but not an object; an artifact is the JSON object dvp build writes"})
	case errors.As(err, &big):
		ps = append(ps, diag.Problem{Severity: diag.Error, Pointer: "/" + big.Key, Message: fmt.Sprintf("is larger than %d bytes", big.Limit)})
	default:
		e.cfg.Log.Warn("upload cut short", "remote", r.RemoteAddr, "bytes", counter.n, "error", err)
		return malformedUpload("the body ended early: " + err.Error())
	}
	// Read the rest of a refused file, then to the closing boundary (parts
	// after the file are ignored), so that the client reads the answer.
	if _, err := io.Copy(io.Discard, body); err != nil {
		if errors.As(err, &tooBig) {
			return tooLarge(limit)
		}
		return malformedUpload("the body ended early: " + err.Error())
	}
	if counter.n > limit {
		return tooLarge(limit)
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return malformedUpload(err.Error())
		}
		io.Copy(io.Discard, io.LimitReader(p, multipartSlack))
	}
	e.cfg.Log.Debug("upload received and scanned", "file", filename, "bytes", counter.n, "took", time.Since(start).Round(time.Millisecond))
	sum := hex.EncodeToString(counter.h.Sum(nil))
	handed, apiErr := e.ingest(w, q, &upload{fields: fields, problems: ps, src: src, sha256: sum, size: counter.n, filename: filename})
	handedOff = handed
	return apiErr
}

// hashCounter hashes and counts what is written to it.
type hashCounter struct {
	h hash.Hash
	n int64
}

func (c *hashCounter) Write(p []byte) (int, error) {
	c.h.Write(p)
	c.n += int64(len(p))
	return len(p), nil
}

// errReader records the error (other than EOF) of the reader it wraps, to
// tell a failed read of the request from bad base64.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
	}
	return n, err
}

// errWriter records the error of the writer it wraps.
type errWriter struct {
	w   io.Writer
	err *error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		*e.err = err
	}
	return n, err
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

var errBadBase64 = errors.New("bad base64")

// upload is a received and scanned artifact.
type upload struct {
	fields   *artifact.Fields
	problems diag.List    // of the scan
	src      *store.Spool // the decoded sourceCode
	sha256   string       // of the artifact file
	size     int64
	filename string
}

// ingest validates a received artifact and installs it: at once for a new
// plugin (a completed action), through a job for an upgrade, which then
// owns up.src (handedOff is true).
func (e *Engine) ingest(w http.ResponseWriter, q *request, up *upload) (handedOff bool, _ *APIError) {
	ctx := context.Background() // the installation must not stop if the client goes
	start := time.Now()
	fields, ps, src, filename := up.fields, up.problems, up.src, up.filename
	var a *artifact.Artifact
	if len(ps) == 0 {
		var fps diag.List
		a, fps = artifact.CheckFields(fields, artifact.CheckOptions{EngineAPI: APIVersion, CompileSchema: schema.CheckCompiles})
		ps = append(ps, fps...)
		if a != nil {
			if _, zps := artifact.CheckSourceZip(src.File(), src.Size(), artifact.ZipLimits{MaxUncompressed: e.cfg.MaxSourceBytes}); len(zps) > 0 {
				ps = append(ps, zps...)
				a = nil
			}
		}
	}
	pluginID := ""
	if fields != nil {
		var id string
		if json.Unmarshal(fields.Values["pluginId"], &id) == nil && artifact.PluginIDPattern.MatchString(id) {
			pluginID = strings.ToLower(id)
		}
	}
	who := q.session.user
	if errs := ps.Errors(); len(errs) > 0 || a == nil {
		details := fmt.Sprintf("The plugin artifact %q was refused: %d problem(s):\n%s", filename, len(errs), errs.String())
		e.pluginLog(pluginID, "upload of %q by %s refused (artifact sha256 %s, %d bytes):\n%s", filename, who, up.sha256, up.size, indent(errs.String()))
		return false, apiErr(http.StatusBadRequest, "exception.toolkit.invalid.artifact", details,
			"Fix the problems listed, build the plugin again with 'dvp build' and upload the new artifact.json.")
	}
	checked := time.Now()
	if err := src.Finish(); err != nil {
		return false, internalErr(err)
	}
	e.cfg.Log.Debug("artifact checked", "plugin", a.Name, "build", a.BuildNumber, "code_bytes", src.Size(),
		"check_took", checked.Sub(start).Round(time.Millisecond), "sync_took", time.Since(checked).Round(time.Millisecond))
	a.PluginID = strings.ToLower(a.PluginID)
	meta := *a
	meta.SourceCode = ""
	metaJSON, err := artifact.Marshal(&meta)
	if err != nil {
		return false, internalErr(err)
	}
	now := store.FormatTime(e.cfg.Clock())
	row := &store.Toolkit{PluginID: a.PluginID, Name: a.Name, BuildNumber: a.BuildNumber, SourceSize: src.Size(),
		ArtifactSHA256: up.sha256, ArtifactJSON: string(metaJSON), Installed: now, Updated: now}
	warnings := ps.Warnings()

	installed, err := e.store.ToolkitByPluginID(ctx, a.PluginID)
	if err != nil {
		return false, internalErr(err)
	}
	if installed == nil {
		out, err := e.store.Install(ctx, a.PluginID, src, func(cur *store.Toolkit) (*store.Toolkit, error) {
			if cur != nil { // installed meanwhile by a concurrent upload: an upgrade
				if refused := e.upgradeRefusal(cur, a); refused != nil {
					return nil, refused
				}
			}
			return row, nil
		}, nil)
		var refused *APIError
		if errors.As(err, &refused) {
			e.pluginLog(a.PluginID, "upload of build %s by %s refused: %s", a.BuildNumber, who, refused.Details)
			return false, refused
		}
		if err != nil {
			return false, internalErr(err)
		}
		act := &store.Action{ActionType: "TOOLKIT_UPLOAD", Title: fmt.Sprintf("Upload plugin %q", a.Name),
			Details: fmt.Sprintf("Installed plugin %q (%s) build %s as %s.", a.Name, a.PluginID, a.BuildNumber, out.Ref()),
			State:   "COMPLETED", UserRef: q.session.userRef, StartTime: now}
		act.EndTime.String, act.EndTime.Valid = store.FormatTime(e.cfg.Clock()), true
		if err := e.store.InsertAction(ctx, act); err != nil {
			return false, internalErr(err)
		}
		e.pluginLog(a.PluginID, "%s: plugin %q build %s installed as %s by %s (artifact %q, sha256 %s, %d bytes; code sha256 %s)%s",
			act.Ref(), a.Name, a.BuildNumber, out.Ref(), who, filename, row.ArtifactSHA256, up.size, out.SourceSHA256, warningText(warnings))
		e.cfg.Log.Info("plugin installed", "plugin", a.Name, "id", a.PluginID, "build", a.BuildNumber, "ref", out.Ref())
		writeOK(w, "", nil, strp(act.Ref()))
		return false, nil
	}

	old, err := installed.Artifact()
	if err != nil {
		return false, internalErr(err)
	}
	if refused := e.upgradeRefusal(installed, a); refused != nil {
		e.pluginLog(a.PluginID, "upload of build %s by %s refused: %s", a.BuildNumber, who, refused.Details)
		return false, refused
	}
	act := &store.Action{ActionType: "TOOLKIT_UPLOAD", Title: fmt.Sprintf("Upgrade plugin %q", a.Name),
		Details: fmt.Sprintf("Upgrade plugin %q (%s) from build %s to build %s.", a.Name, a.PluginID, old.BuildNumber, a.BuildNumber),
		State:   "RUNNING", UserRef: q.session.userRef, StartTime: now}
	job := &store.Job{ActionType: "TOOLKIT_UPGRADE", Title: act.Title, State: "RUNNING", UserRef: q.session.userRef, StartTime: now, UpdateTime: now}
	job.Target.String, job.Target.Valid = installed.Ref(), true
	job.TargetName.String, job.TargetName.Valid = a.Name, true
	if err := e.store.InsertActionWithJob(ctx, act, job); err != nil {
		return false, internalErr(err)
	}
	done := e.jobs.Track()
	go func() {
		defer done()
		e.runUpgrade(act, job, src, row, a, old, who, filename, warnings)
	}()
	writeOK(w, "", strp(job.Ref()), strp(act.Ref()))
	return true, nil
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
func (e *Engine) upgradeRefusal(installed *store.Toolkit, a *artifact.Artifact) *APIError {
	old, err := installed.Artifact()
	if err != nil {
		return internalErr(err)
	}
	ps := artifact.CheckUpgrade(old, a)
	if len(ps) == 0 {
		return nil
	}
	return apiErr(http.StatusBadRequest, "exception.toolkit.upgrade.refused",
		fmt.Sprintf("Plugin %q cannot be upgraded from build %s to build %s: %d problem(s):\n%s", old.Name, old.BuildNumber, a.BuildNumber, len(ps), ps.String()),
		"Build the plugin with a build number at least as high as the installed one, keeping every migration of the installed build, and upload it again.")
}

// runUpgrade is the upgrade job: it records its steps as job events and
// installs the new build, checking the rules again against whatever is
// installed at that moment.
func (e *Engine) runUpgrade(act *store.Action, job *store.Job, src *store.Spool, row *store.Toolkit, a, old *artifact.Artifact, who, filename string, warnings diag.List) {
	defer src.Discard()
	ctx := context.Background()
	event := func(code, details string, action *string, kind string, percent float64, state string) {
		ev := store.JobEvent{Timestamp: store.FormatTime(e.cfg.Clock()), MessageCode: code, Details: details, EventType: kind, Percent: percent}
		if action != nil {
			ev.Action.String, ev.Action.Valid = *action, true
		}
		if state != "RUNNING" {
			ev.State.String, ev.State.Valid = state, true
		}
		if err := e.store.AddEvent(ctx, job.ID, state, ev); err != nil {
			e.cfg.Log.Error("recording a job event", "job", job.Ref(), "error", err)
		}
	}
	event("event.toolkit.upgrade.started", fmt.Sprintf("Upgrading plugin %q from build %s to build %s.", a.Name, old.BuildNumber, a.BuildNumber), nil, "INFO", 0, "RUNNING")
	for _, wp := range warnings {
		event("event.toolkit.upgrade.warning", "Warning: "+wp.String(), nil, "WARNING", 10, "RUNNING")
	}
	var out *store.Toolkit
	cur, err := e.store.ToolkitByPluginID(ctx, a.PluginID)
	if err == nil && cur != nil {
		if refused := e.upgradeRefusal(cur, a); refused != nil {
			err = refused
		}
	}
	var plan *migrationPlan
	if err == nil {
		n := len(old.Manifest.MigrationIDList)
		event("event.toolkit.upgrade.validated", fmt.Sprintf("Build %s passed the upgrade checks (the build number does not decrease; all %d migration id(s) of build %s are kept).", a.BuildNumber, n, old.BuildNumber), nil, "INFO", 50, "RUNNING")
		if ids := newMigrationIDs(old, a); len(ids) > 0 && cur != nil {
			j := e.jobs.Attach(act, job, 50)
			if plan, err = e.planMigrations(ctx, j, cur, row, a, src.Sum(), src.Name(), ids); err == nil && len(plan.newDocs) > 0 {
				event("event.toolkit.upgrade.migrated", fmt.Sprintf("Ran the new migration(s) %s on the plugin's stored objects: %s.", strings.Join(ids, ", "), strings.Join(plan.summary, ", ")), nil, "INFO", 75, "RUNNING")
			}
		}
	}
	if err == nil {
		var apply store.InstallApply
		if plan != nil && len(plan.newDocs) > 0 {
			apply = plan.apply(e.store)
		}
		// install checks again under the store's lock: another upload may
		// have landed in between.
		out, err = e.store.Install(ctx, a.PluginID, src, func(cur *store.Toolkit) (*store.Toolkit, error) {
			if cur != nil {
				if refused := e.upgradeRefusal(cur, a); refused != nil {
					return nil, refused
				}
			}
			if apply != nil && (cur == nil || cur.ArtifactSHA256 != plan.artifactSHA256) {
				return nil, &jobError{Code: "exception.toolkit.upgrade.conflict",
					Message: "Another build of the plugin was installed while the migrations ran, so this upgrade stops and nothing changes.",
					Action:  "Upload the plugin again."}
			}
			return row, nil
		}, apply)
	}
	end := store.FormatTime(e.cfg.Clock())
	if err != nil {
		details, action, code := err.Error(), "Look at the engine's log, then upload the plugin again.", "exception.internal"
		var refused *APIError
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
		event("event.toolkit.upgrade.failed", details, &action, "ERROR", 100, "FAILED")
		if ferr := e.store.FinishAction(ctx, act.ID, "FAILED", end, &details, &action, &code); ferr != nil {
			e.cfg.Log.Error("finishing an action", "action", act.Ref(), "error", ferr)
		}
		e.pluginLog(a.PluginID, "%s: upgrade of plugin %q to build %s by %s failed: %s", act.Ref(), a.Name, a.BuildNumber, who, details)
		return
	}
	event("event.toolkit.upgrade.completed", fmt.Sprintf("Plugin %q is now at build %s.", a.Name, a.BuildNumber), nil, "INFO", 100, "COMPLETED")
	if err := e.store.FinishAction(ctx, act.ID, "COMPLETED", end, nil, nil, nil); err != nil {
		e.cfg.Log.Error("finishing an action", "action", act.Ref(), "error", err)
	}
	e.pluginLog(a.PluginID, "%s: plugin %q upgraded from build %s to build %s (%s) by %s (artifact %q, sha256 %s; code sha256 %s)%s",
		act.Ref(), a.Name, old.BuildNumber, a.BuildNumber, out.Ref(), who, filename, row.ArtifactSHA256, out.SourceSHA256, warningText(warnings))
	e.cfg.Log.Info("plugin upgraded", "plugin", a.Name, "id", a.PluginID, "from", old.BuildNumber, "to", a.BuildNumber)
}

// ---- actions and jobs ----

func (e *Engine) handleAction(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	a, err := e.store.Action(r.Context(), r.PathValue("ref"))
	if err != nil {
		return internalErr(err)
	}
	if a == nil {
		return actionNotFound(r.PathValue("ref"))
	}
	writeOK(w, actionObject(a), nil, nil)
	return nil
}

func actionNotFound(ref string) *APIError {
	return apiErr(http.StatusNotFound, "exception.webservices.object.notfound",
		fmt.Sprintf("The action %q does not exist.", ref), "Use the action reference an upload returned.")
}

func nullable(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func actionObject(a *store.Action) *engineapi.Action {
	return &engineapi.Action{
		Type:               "Action",
		Reference:          a.Ref(),
		Title:              a.Title,
		Details:            a.Details,
		ActionType:         a.ActionType,
		StartTime:          a.StartTime,
		EndTime:            nullable(a.EndTime),
		User:               a.UserRef,
		State:              a.State,
		FailureDescription: nullable(a.FailureDescription),
		FailureAction:      nullable(a.FailureAction),
		FailureMessageCode: nullable(a.FailureCode),
	}
}

func (e *Engine) handleActionJob(w http.ResponseWriter, r *http.Request, q *request) *APIError {
	a, err := e.store.Action(r.Context(), r.PathValue("ref"))
	if err != nil {
		return internalErr(err)
	}
	if a == nil {
		return actionNotFound(r.PathValue("ref"))
	}
	if !a.JobID.Valid {
		return apiErr(http.StatusNotFound, "exception.webservices.object.notfound",
			fmt.Sprintf("The action %q has no job.", a.Ref()), "Read the action itself with GET "+APIPrefix+"delphix/action/"+a.Ref()+".")
	}
	j, err := e.store.Job(r.Context(), a.JobID.Int64)
	if err != nil {
		return internalErr(err)
	}
	if j == nil {
		return internalErr(fmt.Errorf("the job of %s is missing", a.Ref()))
	}
	writeOK(w, jobObject(j, a), nil, nil)
	return nil
}

// jobObject renders a job (with its events) as a Job object.
func jobObject(j *store.Job, a *store.Action) *engineapi.Job {
	events := make([]engineapi.JobEvent, len(j.Events))
	for i, ev := range j.Events {
		events[i] = engineapi.JobEvent{
			Type:            "JobEvent",
			Timestamp:       ev.Timestamp,
			State:           nullable(ev.State),
			PercentComplete: ev.Percent,
			MessageCode:     ev.MessageCode,
			MessageDetails:  ev.Details,
			MessageAction:   nullable(ev.Action),
			EventType:       ev.EventType,
			Diagnoses:       []string{},
		}
	}
	return &engineapi.Job{
		Type:             "Job",
		Reference:        j.Ref(),
		ActionType:       j.ActionType,
		Title:            j.Title,
		Target:           nullable(j.Target),
		TargetObjectType: targetObjectType(j),
		TargetName:       nullable(j.TargetName),
		JobState:         j.State,
		StartTime:        j.StartTime,
		UpdateTime:       j.UpdateTime,
		User:             j.UserRef,
		PercentComplete:  j.Percent,
		ParentAction:     a.Ref(),
		Events:           events,
	}
}
