package core

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/schema"
	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// paramProblems validates raw against a definition of the plugin; each
// problem names its JSON pointer (docs/workflows.md, "Parameters are
// checked first"). It returns the decoded value too (nil when raw is not
// JSON).
func paramProblems(sch *schema.Schema, definition string, raw json.RawMessage) (diag.List, any) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if len(bytes.TrimSpace(raw)) == 0 {
		return diag.List{{Severity: diag.Error, Message: "the parameters are missing: send a JSON object"}}, nil
	}
	if err := dec.Decode(&v); err != nil {
		return diag.List{{Severity: diag.Error, Message: "the parameters are not JSON: " + err.Error()}}, nil
	}
	var out diag.List
	for _, p := range sch.ValidateValue(definition, v) {
		// The refusal's action says which definition to match, once.
		p.File, p.Hint = "", ""
		out = append(out, p)
	}
	return out, v
}

// paramsFlag is the dvp flag that gives the parameters of a definition.
func paramsFlag(definition string) string {
	if definition == "snapshotParametersDefinition" {
		return "--snapshot-params"
	}
	return "--params"
}

// validateParams is paramProblems as an API error (HTTP 400), so that
// nothing runs with parameters the plugin's schema refuses.
// The secrets of raw are registered with the redactor first: a message
// that quotes a value cannot show them.
func (e *Engine) validateParams(t *store.Toolkit, a *artifact.Artifact, definition, what string, raw json.RawMessage) error {
	sch := e.store.PluginSchema(t, a)
	e.keeper.RegisterSecrets(sch.Definitions[definition], raw)
	ps, v := paramProblems(sch, definition, raw)
	if v != nil {
		// The formats the engine can check beyond the schema.
		ps = append(ps, e.formatProblems(context.Background(), sch.Definitions[definition], v)...)
	}
	if len(ps) == 0 {
		return nil
	}
	return newErr(Invalid, "exception.validation.parameters",
		fmt.Sprintf("The %s do not match the %s of plugin %q: %d problem(s):\n%s", what, definition, a.Name, len(ps), problemLines(ps)),
		fmt.Sprintf("Fix the values at the JSON pointers listed (in the JSON given with %s) so that they match %s in the plugin's schema.json, then run the command again.", paramsFlag(definition), definition))
}

// checkOutput validates an object a plugin returned (its secrets
// registered first, as validateParams).
func (e *Engine) checkOutput(t *store.Toolkit, a *artifact.Artifact, op, definition string, raw json.RawMessage) error {
	e.keeper.RegisterSecrets(e.store.PluginSchema(t, a).Definitions[definition], raw)
	ps, _ := paramProblems(e.store.PluginSchema(t, a), definition, raw)
	if len(ps) == 0 {
		return nil
	}
	return &pluginhost.PluginError{Kind: pluginhost.KindBadOutput, Operation: op, Action: sdk.DefaultUserErrorAction,
		Message: fmt.Sprintf("The object returned by %s() does not match the plugin's %s:\n%s", op, definition, problemLines(ps))}
}

// identityKey is the identity of a repository or source config: the JSON
// of its identity fields' values.
func identityKey(raw json.RawMessage, fields []string) string {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	vals := make([]any, len(fields))
	for i, f := range fields {
		vals[i] = m[f]
	}
	b, _ := json.Marshal(vals)
	return string(b)
}

// nameOf is the value of the name field, as text.
func nameOf(raw json.RawMessage, field string) string {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	switch v := m[field].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// ---- platform objects ----

func refNumber(ref string) string { return ref[strings.LastIndex(ref, "-")+1:] }

func connOf(env engineapi.Environment) sdk.RemoteConnection {
	n := refNumber(env.Reference)
	return sdk.RemoteConnection{
		Environment: sdk.RemoteEnvironment{Name: env.Name, Reference: env.Reference, Host: sdk.RemoteHost{
			Name: env.Host, Reference: "UNIX_HOST-" + n, BinaryPath: env.BinaryPath, ScratchPath: env.ScratchPath}},
		User: sdk.RemoteUser{Name: env.User, Reference: "HOST_USER-" + n},
	}
}

// wf is the state of one workflow run on a container.
type wf struct {
	e    *Engine
	j    *jobs.Job
	tk   *store.Toolkit
	art  *artifact.Artifact
	run  *exec.Plugin
	c    *engineapi.Container
	repo engineapi.Repository
	sc   engineapi.SourceConfig
	envs map[string]engineapi.Environment
	x    map[string]exec.Executor
}

// startPlugin starts an installed plugin for a job.
func (e *Engine) startPlugin(t *store.Toolkit, j *jobs.Job) (*exec.Plugin, error) {
	blob, err := e.store.BlobPath(t.SourceSHA256)
	if err != nil {
		return nil, err
	}
	bin, err := e.runner.ExtractBinary(t.SourceSHA256, blob, t.Ref())
	if err != nil {
		return nil, err
	}
	a, err := t.Artifact()
	if err != nil {
		return nil, err
	}
	return e.runner.Start(t.PluginID, a, bin, j)
}

func (e *Engine) newWF(ctx context.Context, j *jobs.Job, c *engineapi.Container) (*wf, error) {
	w := &wf{e: e, j: j, c: c, envs: map[string]engineapi.Environment{}, x: map[string]exec.Executor{}}
	t, err := e.store.ToolkitByRef(ctx, c.Toolkit)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, failf(fmt.Sprintf("Upload the plugin again with dvp upload, or delete the %s with dvp %s delete %s.", containerNames[c.ContainerType], strings.ToLower(containerNames[c.ContainerType]), c.Name),
			"The plugin %s of %s is not installed any more.", c.Toolkit, c.Name)
	}
	w.tk = t
	if w.art, err = t.Artifact(); err != nil {
		return nil, err
	}
	if ok, err := e.store.GetObject(ctx, store.KindRepository, c.Repository, &w.repo); err != nil || !ok {
		return nil, failf(fmt.Sprintf("Refresh the environment with dvp environment refresh %s, then run the command again.", c.Environment), "The repository %s of %s does not exist (%v).", c.Repository, c.Name, err)
	}
	if c.SourceConfig != "" {
		if ok, err := e.store.GetObject(ctx, store.KindSourceConfig, c.SourceConfig, &w.sc); err != nil || !ok {
			return nil, failf("Add the source config again with dvp source-config add.", "The source config %s of %s does not exist (%v).", c.SourceConfig, c.Name, err)
		}
	}
	if w.run, err = e.startPlugin(t, j); err != nil {
		return nil, err
	}
	// The container's storage is mounted on local environments as a link
	// into the data directory: the plugin's commands there must see it.
	w.run.Expose(c.Storage)
	w.run.BeforeCall = w.verifyMounts
	return w, nil
}

func (w *wf) close() {
	if w.run != nil {
		w.run.Close()
	}
	for _, x := range w.x {
		x.Close()
	}
}

func (w *wf) env(ctx context.Context, ref string) (engineapi.Environment, error) {
	if env, ok := w.envs[ref]; ok {
		return env, nil
	}
	var env engineapi.Environment
	ok, err := w.e.store.GetObject(ctx, store.KindEnvironment, ref, &env)
	if err != nil {
		return env, err
	}
	if !ok {
		return env, failf("Add the environment with dvp environment add, or fix the plugin's mount specification.", "The environment %s does not exist on this engine.", ref)
	}
	w.envs[ref] = env
	return env, nil
}

func (w *wf) exec(ctx context.Context, ref string) (exec.Executor, engineapi.Environment, error) {
	env, err := w.env(ctx, ref)
	if err != nil {
		return nil, env, err
	}
	if x, ok := w.x[ref]; ok {
		return x, env, nil
	}
	x := exec.New(env)
	w.x[ref] = x
	return x, env, nil
}

func (w *wf) save(ctx context.Context) error {
	return w.e.store.PutObject(ctx, store.KindContainer, w.c.Reference, w.c.Name, w.c, w.e.cfg.Clock())
}

func (w *wf) mounts(ctx context.Context) ([]sdk.Mount, error) {
	out := []sdk.Mount{}
	for _, m := range w.c.Mounts {
		env, err := w.env(ctx, m.Environment)
		if err != nil {
			return nil, err
		}
		out = append(out, sdk.Mount{RemoteEnvironment: connOf(env).Environment, MountPath: m.MountPath, SharedPath: m.SharedPath})
	}
	return out, nil
}

// stagedSource is the staged_source input; with mounts when mounted.
func (w *wf) stagedSource(ctx context.Context, withMounts bool) (map[string]any, error) {
	staging, err := w.env(ctx, w.c.Environment)
	if err != nil {
		return nil, err
	}
	source, err := w.env(ctx, w.c.SourceEnv)
	if err != nil {
		return nil, err
	}
	s := map[string]any{"guid": w.c.GUID, "source_connection": connOf(source), "staged_connection": connOf(staging), "parameters": w.c.Parameters}
	if withMounts {
		ms, err := w.mounts(ctx)
		if err != nil {
			return nil, err
		}
		if len(ms) == 1 {
			s["staged_mount"] = ms[0]
		} else if len(ms) > 1 {
			s["mounts"] = ms
		}
	}
	return s, nil
}

func (w *wf) directSource(ctx context.Context) (map[string]any, error) {
	source, err := w.env(ctx, w.c.Environment)
	if err != nil {
		return nil, err
	}
	return map[string]any{"guid": w.c.GUID, "connection": connOf(source), "parameters": w.c.Parameters}, nil
}

func (w *wf) virtualSource(ctx context.Context, withMounts bool) (map[string]any, error) {
	target, err := w.env(ctx, w.c.Environment)
	if err != nil {
		return nil, err
	}
	ms := []sdk.Mount{}
	if withMounts {
		if ms, err = w.mounts(ctx); err != nil {
			return nil, err
		}
	}
	return map[string]any{"guid": w.c.GUID, "connection": connOf(target), "parameters": w.c.Parameters, "mounts": ms}, nil
}

// mountSpec runs the mount specification operation and mounts the
// container's storage as it says (replacing the previous mounts).
func (w *wf) mountSpec(ctx context.Context) error {
	spec, err := w.askMountSpec(ctx)
	if err != nil {
		return err
	}
	if err := w.checkMounts(ctx, spec.Mounts); err != nil {
		return err
	}
	old := map[string]engineapi.Mount{}
	for _, m := range w.c.Mounts {
		old[mountKey(m.Environment, m.MountPath)] = m
	}
	if err := w.recordPlannedMounts(ctx, spec.Mounts, old); err != nil {
		return err
	}
	if err := w.makeMounts(ctx, spec.Mounts, old); err != nil {
		return err
	}
	if err := w.applyOwnership(spec.OwnershipSpecification, w.c.Mounts); err != nil {
		return err
	}
	return w.save(ctx)
}

// mountKey names a mount by its environment and path.
func mountKey(envRef, mountPath string) string { return envRef + "\x00" + mountPath }

// askMountSpec runs the plugin's mount specification operation (linked's
// for a dSource, virtual's for a VDB) and checks what it answers.
func (w *wf) askMountSpec(ctx context.Context) (sdk.MountSpecification, error) {
	var spec sdk.MountSpecification
	var err error
	if w.c.ContainerType == engineapi.ContainerDSource {
		ss, serr := w.stagedSource(ctx, false)
		if serr != nil {
			return spec, serr
		}
		err = w.run.Call(ctx, "linked.mount_specification", map[string]any{"staged_source": ss, "repository": w.repo.Parameters}, &spec)
		if err == nil {
			err = spec.ValidateStaged()
		}
	} else {
		vs, verr := w.virtualSource(ctx, false)
		if verr != nil {
			return spec, verr
		}
		err = w.run.Call(ctx, "virtual.mount_specification", map[string]any{"virtual_source": vs, "repository": w.repo.Parameters}, &spec)
		if err == nil {
			err = spec.Validate()
		}
	}
	if err != nil {
		var me *sdk.MountError
		if errors.As(err, &me) {
			return spec, &pluginhost.PluginError{Kind: pluginhost.KindBadOutput, Operation: "mount_specification", Message: me.Message, Action: sdk.DefaultUserErrorAction}
		}
		return spec, err
	}
	return spec, nil
}

// recordPlannedMounts records the mounts about to be made (those not in
// old, the container's mounts now) before they are made: a crash while
// they are made leaves none that the container's delete does not end.
func (w *wf) recordPlannedMounts(ctx context.Context, mounts []sdk.Mount, old map[string]engineapi.Mount) error {
	planned := append([]engineapi.Mount{}, w.c.Mounts...)
	for _, m := range mounts {
		if _, ok := old[mountKey(m.RemoteEnvironment.Reference, m.MountPath)]; ok {
			continue
		}
		env, err := w.env(ctx, m.RemoteEnvironment.Reference)
		if err != nil {
			return err
		}
		// No method until it is made: ending a local one removes only
		// the engine's own link, and an SSH one is not touched (its
		// path may be a directory the mount refused).
		planned = append(planned, engineapi.Mount{Environment: env.Reference, MountPath: m.MountPath, SharedPath: m.SharedPath})
	}
	if len(planned) > len(w.c.Mounts) {
		w.c.Mounts = planned
		return w.save(ctx)
	}
	return nil
}

// makeMounts mounts the container's storage (or a shared path of it) at
// each mount, remounting those of old (the mounts before) and unmounting
// those of old no longer asked for; the container's mounts become the
// ones made. A mount that fails is saved as what is mounted now, and
// refused.
func (w *wf) makeMounts(ctx context.Context, mounts []sdk.Mount, old map[string]engineapi.Mount) error {
	var recs []engineapi.Mount
	for _, m := range mounts {
		x, env, err := w.exec(ctx, m.RemoteEnvironment.Reference)
		if err != nil {
			return err
		}
		storage := w.c.Storage
		if m.SharedPath != "" {
			if storage, err = sharedStorage(w.c.Storage, m.SharedPath); err != nil {
				return err
			}
		}
		prev, remount := old[mountKey(env.Reference, m.MountPath)]
		remount = remount && prev.Method != "" // a mount recorded, never made
		method, err := x.Mount(exec.WithJobOutput(ctx, w.j, "copy to "+env.Name), storage, m.MountPath, remount)
		if err != nil {
			// What is mounted now: those made, and the old ones not
			// yet replaced.
			w.c.Mounts = recs
			for _, o := range old {
				w.c.Mounts = append(w.c.Mounts, o)
			}
			if serr := w.save(ctx); serr != nil {
				return serr
			}
			return w.mountRefused(env, m.MountPath, err)
		}
		delete(old, mountKey(env.Reference, m.MountPath))
		recs = append(recs, engineapi.Mount{Environment: env.Reference, MountPath: m.MountPath, SharedPath: m.SharedPath, Method: method})
		w.j.Info("event.storage.mounted", fmt.Sprintf("Mounted the storage of %s at %s on %s (%s).", w.c.Name, m.MountPath, env.Name, method))
	}
	for _, m := range old { // mounts the plugin no longer asks for
		w.unmountOne(ctx, m)
	}
	w.c.Mounts = recs
	return nil
}

func (w *wf) storageOf(m engineapi.Mount) string {
	if m.SharedPath != "" {
		return filepath.Join(w.c.Storage, filepath.Clean("/"+m.SharedPath))
	}
	return w.c.Storage
}

// syncBack brings what the plugin wrote at the mounts into the storage.
func (w *wf) syncBack(ctx context.Context) error {
	for _, m := range w.c.Mounts {
		x, env, err := w.exec(ctx, m.Environment)
		if err != nil {
			return err
		}
		if err := x.SyncBack(exec.WithJobOutput(ctx, w.j, "copy from "+env.Name), w.storageOf(m), m.MountPath, m.Method); err != nil {
			return err
		}
	}
	return nil
}

func (w *wf) unmountOne(ctx context.Context, m engineapi.Mount) {
	x, env, err := w.exec(ctx, m.Environment)
	if err == nil {
		err = x.Unmount(ctx, w.storageOf(m), m.MountPath, m.Method)
	}
	if err != nil {
		w.j.Event("event.storage.unmount.failed", fmt.Sprintf("Could not unmount %s: %v", m.MountPath, err), nil, "WARNING", "RUNNING")
		return
	}
	w.j.Info("event.storage.unmounted", fmt.Sprintf("Unmounted %s from %s.", m.MountPath, env.Name))
}

func (w *wf) unmountAll(ctx context.Context) error {
	for _, m := range w.c.Mounts {
		w.unmountOne(ctx, m)
	}
	w.c.Mounts = nil
	return w.save(ctx)
}

// takeSnapshot copies the storage into a new snapshot, then runs the
// post-snapshot operation (post) whose result is stored with it.
func (w *wf) takeSnapshot(ctx context.Context, resync bool, params json.RawMessage, post func() (json.RawMessage, error)) (string, error) {
	dir := ""
	ref, err := w.e.store.CreateObject(ctx, store.KindSnapshot, w.c.Reference, false, w.e.cfg.Clock(), func(ref string) (any, string) {
		dir = filepath.Join(w.e.cfg.DataDir, store.SnapshotsDir, ref, "data")
		return &engineapi.Snapshot{Type: "AppDataSnapshot", Reference: ref, Name: ref, Container: w.c.Reference, Toolkit: w.c.Toolkit}, ref
	})
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		w.e.store.DeleteObject(context.Background(), store.KindSnapshot, ref)
		os.RemoveAll(filepath.Dir(dir))
		return "", err
	}
	if err := exec.CopyTree(ctx, w.c.Storage, dir); err != nil {
		return fail(err)
	}
	w.j.Info("event.snapshot.taken", fmt.Sprintf("Took snapshot %s of %s.", ref, w.c.Name))
	meta, err := post()
	if err != nil {
		return fail(err)
	}
	now := w.e.cfg.Clock()
	snap := &engineapi.Snapshot{Type: "AppDataSnapshot", Reference: ref, Name: store.FormatTime(now), Container: w.c.Reference, Toolkit: w.c.Toolkit,
		Timestamp: store.FormatTime(now), Resync: resync, Metadata: meta, Parameters: params, Dir: dir, Job: w.j.Ref()}
	if err := w.e.store.PutObject(ctx, store.KindSnapshot, ref, snap.Name, snap, now); err != nil {
		return fail(err)
	}
	w.j.Result = ref
	w.retain(ctx)
	return ref, nil
}

// snapshotParams is what linked.pre_snapshot and post_snapshot get: the
// user's parameters, with "resync" set when the plugin's schema declares
// that property (docs/workflows.md, "Workflows": sync and resync differ by that flag).
// A sync its policy started gets null, as on a Delphix engine.
func (w *wf) snapshotParams(ctx context.Context, user json.RawMessage, resync bool) json.RawMessage {
	if isPolicyRun(ctx) {
		return json.RawMessage("null")
	}
	var m map[string]any
	if len(user) == 0 || json.Unmarshal(user, &m) != nil || m == nil {
		m = map[string]any{}
	}
	var sch struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	_ = json.Unmarshal(w.art.SnapshotParametersDefinition.Schema, &sch)
	if _, ok := sch.Properties["resync"]; ok {
		m["resync"] = resync
	}
	b, _ := json.Marshal(m)
	return b
}

// sync is the linked-source sync workflow (docs/workflows.md, "Workflows"), STAGED or
// DIRECT, with the dSource's hooks: pre-sync before linked.pre_snapshot
// (after a STAGED plugin's mount specification), post-sync at the end,
// also after a failure once pre-sync was due.
func (w *wf) sync(ctx context.Context, resync bool, userParams json.RawMessage) error {
	preSyncDue := false
	err := w.syncSteps(ctx, resync, userParams, func() error {
		preSyncDue = true
		return w.hook(ctx, "preSync", hookFailure{what: "sync"})
	})
	if !preSyncDue {
		return err
	}
	if err := w.around(ctx, "sync", "", "postSync", true, func() error { return err }); err != nil {
		return err
	}
	w.measure(ctx)
	return nil
}

// syncSteps is sync's workflow; preSync runs the pre-sync hook.
func (w *wf) syncSteps(ctx context.Context, resync bool, userParams json.RawMessage, preSync func() error) error {
	params := w.snapshotParams(ctx, userParams, resync)
	kind := "sync"
	if resync {
		kind = "resync"
	}
	w.j.Info("event.dsource.sync.started", fmt.Sprintf("Starting a %s of %s.", kind, w.c.Name))
	if w.c.PluginType == protocol.PluginTypeDirect {
		ds, err := w.directSource(ctx)
		if err != nil {
			return err
		}
		in := map[string]any{"direct_source": ds, "repository": w.repo.Parameters, "source_config": w.sc.Parameters, "snapshot_parameters": params}
		if err := preSync(); err != nil {
			return err
		}
		w.run.SyncTo(w.c.Storage)
		if w.run.HasOp("linked.pre_snapshot") {
			if err := w.run.Call(ctx, "linked.pre_snapshot", in, nil); err != nil {
				return err
			}
		}
		w.run.SyncTo("")
		w.j.Progress(50)
		_, err = w.takeSnapshot(ctx, resync, params, w.postSnapshot(ctx, "linked.post_snapshot", in))
		return err
	}
	if err := w.mountSpec(ctx); err != nil {
		return err
	}
	w.j.Progress(20)
	ss, err := w.stagedSource(ctx, true)
	if err != nil {
		return err
	}
	in := map[string]any{"staged_source": ss, "repository": w.repo.Parameters, "source_config": w.sc.Parameters, "snapshot_parameters": params}
	if err := preSync(); err != nil {
		return err
	}
	if w.run.HasOp("linked.pre_snapshot") {
		if err := w.run.Call(ctx, "linked.pre_snapshot", in, nil); err != nil {
			return err
		}
	}
	w.j.Progress(60)
	if err := w.syncBack(ctx); err != nil {
		return err
	}
	_, err = w.takeSnapshot(ctx, resync, params, w.postSnapshot(ctx, "linked.post_snapshot", in))
	return err
}

// postSnapshot is takeSnapshot's post step: the plugin's post-snapshot
// operation op, whose result must match its snapshotDefinition.
func (w *wf) postSnapshot(ctx context.Context, op string, in map[string]any) func() (json.RawMessage, error) {
	return func() (json.RawMessage, error) {
		var meta json.RawMessage
		if err := w.run.Call(ctx, op, in, &meta); err != nil {
			return nil, err
		}
		return meta, w.e.checkOutput(w.tk, w.art, op, "snapshotDefinition", meta)
	}
}

func (w *wf) linkedIn(ctx context.Context) (map[string]any, error) {
	ss, err := w.stagedSource(ctx, true)
	if err != nil {
		return nil, err
	}
	return map[string]any{"staged_source": ss, "repository": w.repo.Parameters, "source_config": w.sc.Parameters}, nil
}

func (w *wf) virtualIn(ctx context.Context) (map[string]any, error) {
	vs, err := w.virtualSource(ctx, true)
	if err != nil {
		return nil, err
	}
	return map[string]any{"virtual_source": vs, "repository": w.repo.Parameters, "source_config": w.sc.Parameters}, nil
}

// callOptional runs an operation the plugin may not implement.
func (w *wf) callOptional(ctx context.Context, op string, in map[string]any) error {
	if !w.run.HasOp(op) {
		return nil
	}
	return w.run.Call(ctx, op, in, nil)
}

// configure runs virtual.configure or virtual.reconfigure and stores the
// VDB's source config.
func (w *wf) configure(ctx context.Context, op string, snap *engineapi.Snapshot) error {
	vs, err := w.virtualSource(ctx, true)
	if err != nil {
		return err
	}
	meta := snap.Metadata
	if len(meta) == 0 {
		meta = json.RawMessage(`{}`)
	}
	in := map[string]any{"virtual_source": vs, "repository": w.repo.Parameters, "snapshot": meta}
	if op == "virtual.reconfigure" {
		in["source_config"] = w.sc.Parameters
	}
	var out json.RawMessage
	if err := w.run.Call(ctx, op, in, &out); err != nil {
		return err
	}
	return w.storeSourceConfig(ctx, op, out)
}

// storeSourceConfig checks and stores the source config op
// (virtual.configure, reconfigure or initialize) returned as the VDB's.
func (w *wf) storeSourceConfig(ctx context.Context, op string, out json.RawMessage) error {
	if err := w.e.checkOutput(w.tk, w.art, op, "sourceConfigDefinition", out); err != nil {
		return err
	}
	dd := w.art.DiscoveryDefinition
	name := nameOf(out, dd.SourceConfigNameField)
	if name == "" {
		name = w.c.Name
	}
	now := w.e.cfg.Clock()
	if w.c.SourceConfig == "" {
		ref, err := w.e.store.CreateObject(ctx, store.KindSourceConfig, w.repo.Reference, false, now, func(ref string) (any, string) {
			return &engineapi.SourceConfig{Type: "AppDataSourceConfig", Reference: ref, Name: name, Repository: w.repo.Reference, Environment: w.c.Environment,
				Toolkit: w.c.Toolkit, Parameters: out, Identity: identityKey(out, dd.SourceConfigIdentityFields), Container: w.c.Reference}, name
		})
		if err != nil {
			return err
		}
		w.c.SourceConfig = ref
		w.e.store.GetObject(ctx, store.KindSourceConfig, ref, &w.sc)
	} else {
		w.sc.Parameters, w.sc.Name, w.sc.Identity = out, name, identityKey(out, dd.SourceConfigIdentityFields)
		if err := w.e.store.PutObject(ctx, store.KindSourceConfig, w.sc.Reference, name, &w.sc, now); err != nil {
			return err
		}
	}
	w.j.Info("event.vdb.configured", fmt.Sprintf("%s is configured: %s.", w.c.Name, name))
	return w.save(ctx)
}

// replaceStorage makes the container's storage a copy of the snapshot. The
// copy is made beside the storage and swapped in once complete
// (fsutil.ReplaceDir), so that a copy cut short (a canceled job) leaves the
// storage as it was.
func (w *wf) replaceStorage(ctx context.Context, snap *engineapi.Snapshot) error {
	next := w.c.Storage + ".next"
	// A swap cut short by a crash: put back the data it replaced. When
	// that fails, the swap below still puts the new copy in place.
	fsutil.RestoreDir(w.c.Storage)
	if err := exec.CopyTree(ctx, snap.Dir, next); err != nil {
		os.RemoveAll(next)
		return err
	}
	if err := fsutil.ReplaceDir(w.c.Storage, next); err != nil {
		os.RemoveAll(next)
		return err
	}
	w.c.ParentSnapshot = snap.Reference
	w.j.Info("event.vdb.storage", fmt.Sprintf("The storage of %s is now a writable copy of snapshot %s.", w.c.Name, snap.Reference))
	return w.save(ctx)
}

func newGUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
