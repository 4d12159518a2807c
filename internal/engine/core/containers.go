package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// ---- dSources and VDBs ----

// containerNames name the container types in messages.
var containerNames = map[string]string{engineapi.ContainerDSource: "dSource", engineapi.ContainerVDB: "VDB"}

// Containers lists a page of the dSources and VDBs (each with its policy,
// policies.go), and how many there are.
func (e *Engine) Containers(ctx context.Context, p Page) ([]json.RawMessage, int, error) {
	items, total, err := e.listPage(ctx, store.KindContainer, "", p)
	if err != nil {
		return nil, 0, err
	}
	if items, err = e.withPolicies(ctx, items); err != nil {
		return nil, 0, internalErr(err)
	}
	return items, total, nil
}

func (e *Engine) validateSnapshotParams(t *store.Toolkit, a *artifact.Artifact, raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return e.validateParams(t, a, "snapshotParametersDefinition", "snapshot parameters", raw)
}

// Link creates a dSource on a source config; its job runs the first sync
// (a resync).
func (e *Engine) Link(ctx context.Context, caller Caller, p engineapi.LinkParameters) (Started, error) {
	caller, release, rerr := e.reserveJob(caller, fmt.Sprintf("Link dSource %q", p.Name))
	if rerr != nil {
		return Started{}, rerr
	}
	defer release()
	if strings.TrimSpace(p.Name) == "" {
		return Started{}, badRequest("The dSource needs a name.", "Give it a name.")
	}
	if err := checkName("dSource", p.Name); err != nil {
		return Started{}, err
	}
	var sc engineapi.SourceConfig
	if err := e.find(ctx, store.KindSourceConfig, "source config", p.SourceConfig, &sc); err != nil {
		return Started{}, err
	}
	if sc.Container != "" {
		return Started{}, conflict(fmt.Sprintf("The source config %q belongs to the VDB %s.", sc.Name, sc.Container), "Link another source config.")
	}
	if sc.Missing {
		return Started{}, conflict(fmt.Sprintf("The source config %q is missing: the last discovery on its environment did not find it.", sc.Name),
			"Check the source, then run discovery again (dvp environment refresh); or link another source config.")
	}
	t, a, aerr := e.toolkitOf(ctx, sc.Toolkit)
	if aerr != nil {
		return Started{}, aerr
	}
	if aerr := e.validateParams(t, a, "linkedSourceDefinition", "dSource parameters", p.Parameters); aerr != nil {
		return Started{}, aerr
	}
	if aerr := e.validateSnapshotParams(t, a, p.SnapshotParameters); aerr != nil {
		return Started{}, aerr
	}
	hooks, pol, err := checkNewContainer(engineapi.ContainerDSource, p.Name, p.Operations, p.Policy)
	if err != nil {
		return Started{}, err
	}
	pluginType := protocol.PluginTypeDirect
	if a.LinkedSourceDefinition.Type == artifact.TypeLinkedStagedSourceDefinition {
		pluginType = protocol.PluginTypeStaged
	}
	envRef := sc.Environment
	if pluginType == protocol.PluginTypeStaged && p.StagingEnvironment != "" {
		var env engineapi.Environment
		if err := e.find(ctx, store.KindEnvironment, "staging environment", p.StagingEnvironment, &env); err != nil {
			return Started{}, err
		}
		envRef = env.Reference
	}
	var repo engineapi.Repository
	if ok, err := e.store.GetObject(ctx, store.KindRepository, sc.Repository, &repo); err != nil || !ok {
		return Started{}, notFound("repository", sc.Repository, "Refresh the environment.")
	}
	compact, _ := compactJSON(p.Parameters)
	c, err := e.createContainer(ctx, p.Name, func(ref string) *engineapi.Container {
		c := &engineapi.Container{Type: "AppDataContainer", Reference: ref, Name: p.Name, ContainerType: engineapi.ContainerDSource, Toolkit: t.Ref(), PluginType: pluginType,
			GUID: newGUID(), SourceConfig: sc.Reference, Repository: repo.Reference, Environment: envRef, SourceEnv: sc.Environment,
			Parameters: compact, Mounts: []engineapi.Mount{}, Enabled: true, Runtime: "ACTIVE",
			Storage: filepath.Join(e.cfg.DataDir, store.StorageDir, ref, "data"), Created: store.FormatTime(e.cfg.Clock()), Operations: hooks, Pending: "DB_LINK"}
		if pluginType == protocol.PluginTypeDirect {
			c.SourceEnv = ""
		}
		return c
	})
	if err != nil {
		return Started{}, err
	}
	ref := c.Reference
	if err := os.MkdirAll(c.Storage, 0o755); err != nil {
		return Started{}, internalErr(err)
	}
	if err := e.applyPolicyChange(ctx, caller, c, pol); err != nil {
		return Started{}, err
	}
	snapParams := p.SnapshotParameters
	return e.startJob(caller, "DB_LINK", fmt.Sprintf("Link dSource %q", p.Name), ref, p.Name, ref, ref,
		func(ctx context.Context, j *jobs.Job) error {
			j.Info("event.dsource.linked", fmt.Sprintf("Linked dSource %s (%s) to source config %q; running its first sync (a resync).", p.Name, ref, sc.Name))
			return e.firstSync(ctx, j, ref, p.Name, snapParams)
		})
}

// checkNewContainer checks the hooks and the policy a new dSource or VDB
// (kind) is given.
func checkNewContainer(kind, name string, ops engineapi.HookOperations, policy *engineapi.PolicyParameters) (engineapi.HookOperations, *policyChange, error) {
	hooks, err := checkHooks(kind, name, ops, false)
	if err != nil {
		return nil, nil, err
	}
	pol, err := checkPolicy(nil, "", kind, orNoPolicy(policy))
	if err != nil {
		return nil, nil, err
	}
	return hooks, pol, nil
}

// firstSync is the job of a link: the new dSource's first sync (a
// resync). The dSource stays, whatever the sync did; a failure's action
// says so.
func (e *Engine) firstSync(ctx context.Context, j *jobs.Job, ref, name string, snapParams json.RawMessage) error {
	err := e.containerJob(withOp(ctx, "DB_LINK"), j, ref, func(w *wf) error { return w.sync(ctx, true, snapParams) })
	// Linked, whatever the first sync did: the creation is over.
	e.clearPending(context.Background(), ref)
	if err != nil {
		var je *jobError
		if !errors.As(err, &je) {
			_, action, _ := describeFailure(err)
			return &actionError{err: err, action: fmt.Sprintf("%s The dSource %s was created: fix the problem, then run its sync again (dvp dsource sync %s), or delete it.", action, name, name)}
		}
	}
	return err
}

// actionError keeps a failure with another action: the first sync's,
// which says the dSource exists; a delete's, which mentions --force.
type actionError struct {
	err    error
	action string
}

func (l *actionError) Error() string { return l.err.Error() }
func (l *actionError) Unwrap() error { return l.err }

// containerJob loads a container and runs a workflow step on it.
func (e *Engine) containerJob(ctx context.Context, j *jobs.Job, ref string, step func(w *wf) error) error {
	var c engineapi.Container
	ok, err := e.store.GetObject(ctx, store.KindContainer, ref, &c)
	if err != nil {
		return err
	}
	if !ok {
		return failf("", "%s was deleted.", ref)
	}
	w, err := e.newWF(ctx, j, &c)
	if err != nil {
		return err
	}
	defer w.close()
	if err := step(w); err != nil {
		return err
	}
	if w.clearInterrupted(opOf(ctx)) {
		return w.save(ctx)
	}
	return nil
}

// clearPending ends the creation intent of a container (its creating job
// ended, well or not).
func (e *Engine) clearPending(ctx context.Context, ref string) {
	var c engineapi.Container
	if ok, err := e.store.GetObject(ctx, store.KindContainer, ref, &c); err != nil || !ok || c.Pending == "" {
		return
	}
	c.Pending = ""
	if err := e.store.PutObject(ctx, store.KindContainer, ref, c.Name, &c, e.cfg.Clock()); err != nil {
		e.cfg.Log.Error("ending the creation of a container", "container", ref, "error", err)
	}
}

// Provision creates a VDB from a snapshot; its job copies the snapshot,
// mounts it and runs virtual.configure. A VDB that fails to provision is
// removed.
func (e *Engine) Provision(ctx context.Context, caller Caller, p engineapi.ProvisionParameters) (Started, error) {
	caller, release, rerr := e.reserveJob(caller, fmt.Sprintf("Provision VDB %q", p.Name))
	if rerr != nil {
		return Started{}, rerr
	}
	defer release()
	if strings.TrimSpace(p.Name) == "" {
		return Started{}, badRequest("The VDB needs a name.", "Give it a name.")
	}
	if err := checkName("VDB", p.Name); err != nil {
		return Started{}, err
	}
	var snap engineapi.Snapshot
	if err := e.find(ctx, store.KindSnapshot, "snapshot", p.Snapshot, &snap); err != nil {
		return Started{}, err
	}
	if err := snapshotComplete(&snap); err != nil {
		return Started{}, err
	}
	t, a, aerr := e.toolkitOf(ctx, snap.Toolkit)
	if aerr != nil {
		return Started{}, aerr
	}
	if aerr := e.validateParams(t, a, "virtualSourceDefinition", "VDB parameters", p.Parameters); aerr != nil {
		return Started{}, aerr
	}
	hooks, pol, err := checkNewContainer(engineapi.ContainerVDB, p.Name, p.Operations, p.Policy)
	if err != nil {
		return Started{}, err
	}
	var env engineapi.Environment
	if err := e.find(ctx, store.KindEnvironment, "environment", p.Environment, &env); err != nil {
		return Started{}, err
	}
	repo, err := e.provisionRepository(ctx, env, t.Ref(), a.Name, p.Repository)
	if err != nil {
		return Started{}, err
	}
	compact, _ := compactJSON(p.Parameters)
	c, err := e.createContainer(ctx, p.Name, func(ref string) *engineapi.Container {
		return &engineapi.Container{Type: "AppDataContainer", Reference: ref, Name: p.Name, ContainerType: engineapi.ContainerVDB, Toolkit: t.Ref(), PluginType: "VIRTUAL",
			GUID: newGUID(), Repository: repo.Reference, Environment: env.Reference, Parameters: compact, Mounts: []engineapi.Mount{},
			ParentSnapshot: snap.Reference, Parent: snap.Container, Enabled: true, Runtime: "UNKNOWN",
			Storage: filepath.Join(e.cfg.DataDir, store.StorageDir, ref, "data"), Created: store.FormatTime(e.cfg.Clock()), Operations: hooks, Pending: "DB_PROVISION"}
	})
	if err != nil {
		return Started{}, err
	}
	ref := c.Reference
	if err := e.applyPolicyChange(ctx, caller, c, pol); err != nil {
		return Started{}, err
	}
	return e.startJob(caller, "DB_PROVISION", fmt.Sprintf("Provision VDB %q", p.Name), ref, p.Name, ref, ref,
		func(ctx context.Context, j *jobs.Job) error { return e.provisionJob(ctx, j, ref, p.Name, &snap) })
}

// provisionJob is the job of a provision: the snapshot copied into the new
// VDB's storage, mounted, configured, the configure-clone hook. A VDB that
// fails to provision is removed, storage and all.
func (e *Engine) provisionJob(ctx context.Context, j *jobs.Job, ref, name string, snap *engineapi.Snapshot) error {
	err := e.containerJob(withOp(ctx, "DB_PROVISION"), j, ref, func(w *wf) error {
		if err := w.replaceStorage(ctx, snap); err != nil {
			return err
		}
		j.Progress(30)
		if err := w.mountSpec(ctx); err != nil {
			return err
		}
		j.Progress(60)
		if err := w.configure(ctx, "virtual.configure", snap); err != nil {
			return err
		}
		w.c.Runtime = "ACTIVE"
		if err := w.save(ctx); err != nil {
			return err
		}
		if err := w.hook(ctx, "configureClone", hookFailure{what: "provision", after: true,
			action: fmt.Sprintf("The VDB %s is removed, as a VDB that fails to provision is: fix the configure-clone hook, then provision it again.", name)}); err != nil {
			return err
		}
		w.measure(ctx)
		return nil
	})
	if err != nil {
		// A VDB that failed to provision is removed, storage and all.
		if rerr := e.removeContainer(context.Background(), j, ref); rerr != nil {
			j.Event("event.vdb.remove.failed", fmt.Sprintf("Could not remove the VDB %s that failed to provision: %v", name, rerr), nil, "WARNING", "RUNNING")
		} else {
			j.Info("event.vdb.removed", fmt.Sprintf("Removed the VDB %s that failed to provision.", name))
		}
	}
	return err
}

// createContainer stores a new dSource or VDB, which build makes from the
// reference it gets: a name another dSource or VDB has is a conflict.
func (e *Engine) createContainer(ctx context.Context, name string, build func(ref string) *engineapi.Container) (*engineapi.Container, error) {
	var c *engineapi.Container
	_, err := e.store.CreateObject(ctx, store.KindContainer, "", true, e.cfg.Clock(), func(ref string) (any, string) {
		c = build(ref)
		return c, name
	})
	if errors.Is(err, store.ErrNameTaken) {
		return nil, conflict(fmt.Sprintf("A dSource or VDB named %q exists already.", name), "Choose another name.")
	}
	if err != nil {
		return nil, internalErr(err)
	}
	return c, nil
}

// provisionRepository is the repository a new VDB of the plugin (its
// toolkit reference and name) runs on env: the one named (refOrName),
// else the plugin's first repository there.
func (e *Engine) provisionRepository(ctx context.Context, env engineapi.Environment, toolkitRef, pluginName, refOrName string) (*engineapi.Repository, error) {
	var repo *engineapi.Repository
	if refOrName != "" {
		var aerr error
		if repo, aerr = e.findRepository(ctx, env.Reference, refOrName); aerr != nil {
			return nil, aerr
		}
	} else {
		repos, err := store.ListAs[engineapi.Repository](ctx, e.store, store.KindRepository, env.Reference)
		if err != nil {
			return nil, internalErr(err)
		}
		for i := range repos {
			if repos[i].Toolkit == toolkitRef && repo == nil {
				repo = &repos[i]
			}
		}
		if repo == nil {
			return nil, notFound("repository", "of plugin "+pluginName+" on "+env.Name, "Refresh the environment so that the plugin discovers its repositories, or give --repository.")
		}
	}
	if repo.Toolkit != toolkitRef || repo.Environment != env.Reference {
		return nil, badRequest(fmt.Sprintf("The repository %q is not a repository of plugin %q on %s.", repo.Name, pluginName, env.Name), "Choose a repository of that plugin on the target environment.")
	}
	return repo, nil
}

// removeContainer unmounts and deletes a container, its snapshots, its
// source config (VDBs) and its storage.
func (e *Engine) removeContainer(ctx context.Context, j *jobs.Job, ref string) error {
	var c engineapi.Container
	if ok, err := e.store.GetObject(ctx, store.KindContainer, ref, &c); !ok {
		return err
	}
	w := &wf{e: e, j: j, c: &c, envs: map[string]engineapi.Environment{}, x: map[string]exec.Executor{}}
	for _, m := range c.Mounts {
		w.unmountOne(ctx, m)
	}
	w.close()
	// The rows go in one transaction, then the directories: a crash in
	// between leaves directories no object refers to, which the next
	// start removes (RecoverObjects).
	raws, err := e.store.ListObjects(ctx, store.KindSnapshot, ref)
	if err != nil {
		return err
	}
	keys := []store.ObjectKey{{Kind: store.KindContainer, Ref: ref}}
	var dirs []string
	for _, r := range raws {
		var s engineapi.Snapshot
		if json.Unmarshal(r, &s) == nil && s.Reference != "" {
			keys = append(keys, store.ObjectKey{Kind: store.KindSnapshot, Ref: s.Reference})
			dirs = append(dirs, filepath.Join(e.cfg.DataDir, store.SnapshotsDir, s.Reference))
		}
	}
	if c.ContainerType == engineapi.ContainerVDB && c.SourceConfig != "" {
		keys = append(keys, store.ObjectKey{Kind: store.KindSourceConfig, Ref: c.SourceConfig})
	}
	if err := e.store.DeleteObjects(ctx, keys); err != nil {
		return err
	}
	for _, d := range append(dirs, filepath.Join(e.cfg.DataDir, store.StorageDir, ref)) {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	e.forgetPolicy(ctx, ref)
	return nil
}

// ContainerOp runs an operation of containerOps on a dSource or VDB (by
// reference or name) in a job.
func (e *Engine) ContainerOp(ctx context.Context, caller Caller, ref, op string, p engineapi.ContainerOpParameters) (Started, error) {
	spec, ok := containerOps[op]
	cop, inContract := contractOp(op)
	if !ok || !inContract {
		return Started{}, badRequest(fmt.Sprintf("%q is not an operation of dSources and VDBs.", op), "Use one of the operations dvp help local-engine lists.")
	}
	var c engineapi.Container
	if err := e.find(ctx, store.KindContainer, "dSource or VDB", ref, &c); err != nil {
		return Started{}, err
	}
	if !cop.AppliesTo(c.ContainerType) {
		want := cop.Only
		what := containerNames[want] + "s"
		return Started{}, badRequest(fmt.Sprintf("%s is a %s: %s applies to %s only.", c.Name, strings.ToLower(containerNames[c.ContainerType]), op, what), "Choose a "+containerNames[want]+".")
	}
	if c.ContainerType == engineapi.ContainerVDB && c.SourceConfig == "" && c.Pending == "" && op != "delete" && op != "refresh" {
		// Its provisioning was cut off before virtual.configure: the
		// plugin's operations would get no source config.
		if c.ParentSnapshot == "" { // an empty VDB (create-empty): nothing to refresh from
			return Started{}, conflict(fmt.Sprintf("The VDB %s was never initialized: its creation was cut off.", c.Name),
				fmt.Sprintf("Delete it (dvp vdb delete %s), then create it again (dvp vdb create-empty).", c.Name))
		}
		return Started{}, conflict(fmt.Sprintf("The VDB %s was never configured: its provisioning was cut off.", c.Name),
			fmt.Sprintf("Refresh it (dvp vdb refresh %s) to provision it again from its snapshot, or delete it (dvp vdb delete %s).", c.Name, c.Name))
	}
	t, a, aerr := e.toolkitOf(ctx, c.Toolkit)
	if aerr != nil {
		return Started{}, aerr
	}
	if spec.check != nil {
		if err := spec.check(e, ctx, &c, t, a, p); err != nil {
			return Started{}, err
		}
	}
	var snap engineapi.Snapshot
	if spec.snapshot != noSnapshot {
		var err error
		if snap, err = e.opSnapshotOf(ctx, &c, spec.snapshot, p.Snapshot); err != nil {
			return Started{}, err
		}
		if snap.Toolkit != c.Toolkit {
			return Started{}, badRequest(fmt.Sprintf("The snapshot %s is not a snapshot of plugin %q.", snap.Reference, a.Name), "Choose a snapshot of the same plugin.")
		}
	}
	kind := containerNames[c.ContainerType]
	title := fmt.Sprintf("%s %s %q", strings.ToUpper(op[:1])+op[1:], kind, c.Name)
	if op == "sync" && p.Resync {
		title = fmt.Sprintf("Resync dSource %q", c.Name)
	}
	return e.startJob(caller, spec.actionType, title, c.Reference, c.Name, c.Reference, c.Reference,
		func(ctx context.Context, j *jobs.Job) error {
			return spec.run(e, withOp(ctx, spec.actionType), j, &c, p, &snap)
		})
}

// opSnapshotOf finds the snapshot an operation works from: the one named,
// else the newest complete snapshot of the VDB's parent (parentSnapshot)
// or of the VDB (ownSnapshot).
func (e *Engine) opSnapshotOf(ctx context.Context, c *engineapi.Container, of snapshotOf, named string) (engineapi.Snapshot, error) {
	var snap engineapi.Snapshot
	if named != "" {
		if err := e.find(ctx, store.KindSnapshot, "snapshot", named, &snap); err != nil {
			return snap, err
		}
		return snap, snapshotComplete(&snap)
	}
	parent := c.Parent
	if of == ownSnapshot {
		parent = c.Reference
	}
	if parent == "" {
		return snap, badRequest(fmt.Sprintf("The VDB %s was created empty: it has no dSource to refresh from.", c.Name),
			"Name the snapshot to use (--snapshot), or snapshot the VDB and roll it back.")
	}
	all, err := store.ListAs[engineapi.Snapshot](ctx, e.store, store.KindSnapshot, parent)
	if err != nil {
		return snap, internalErr(err)
	}
	var snaps []engineapi.Snapshot
	for _, s := range all {
		if s.Dir != "" { // not one being taken
			snaps = append(snaps, s)
		}
	}
	if len(snaps) == 0 {
		return snap, notFound("snapshot", "of "+parent, "Take a snapshot first (sync the dSource, or snapshot the VDB), or name one.")
	}
	return snaps[len(snaps)-1], nil
}

// snapshotComplete refuses a snapshot that is still being taken.
func snapshotComplete(s *engineapi.Snapshot) error {
	if s.Dir == "" {
		return conflict(fmt.Sprintf("The snapshot %s is still being taken.", s.Reference), "Wait for the job that takes it to end (dvp job list --running), then use it.")
	}
	return nil
}

// checkDelete refuses to delete a dSource that has VDBs.
func (e *Engine) checkDelete(ctx context.Context, c *engineapi.Container, _ *store.Toolkit, _ *artifact.Artifact, _ engineapi.ContainerOpParameters) error {
	if c.ContainerType != engineapi.ContainerDSource {
		return nil
	}
	cs, err := store.ListAs[engineapi.Container](ctx, e.store, store.KindContainer, "")
	if err != nil {
		return internalErr(err)
	}
	for _, v := range cs {
		if v.Parent == c.Reference {
			return conflict(fmt.Sprintf("The dSource %q has the VDB %q.", c.Name, v.Name), fmt.Sprintf("Delete its VDBs first (dvp vdb delete %s).", v.Name))
		}
	}
	return nil
}

// deleteContainer runs the delete workflow (the plugin's clean-up), then
// removes everything. A plugin operation whose inputs never existed is
// skipped, and the job says so: a VDB whose provisioning was cut off
// before it was configured has nothing to unconfigure or clean up; a
// STAGED dSource that was never mounted has no staging to stop. With
// force, a clean-up that fails (or a plugin that cannot run at all) is
// skipped too, with a warning that says what, and the container is
// removed.
func (e *Engine) deleteContainer(ctx context.Context, j *jobs.Job, ref string, force bool) error {
	skipped := func(what string, err error) error {
		if !force {
			_, action, _ := describeFailure(err)
			return &actionError{err: err, action: action + " To delete it without the plugin's clean-up, add --force."}
		}
		details, _, _ := describeFailure(err)
		j.Event("event.container.delete.skipped", fmt.Sprintf("Skipped %s (--force): %s", what, details), nil, "WARNING", "RUNNING")
		return nil
	}
	err := e.containerJob(ctx, j, ref, func(w *wf) error {
		if w.c.ContainerType == engineapi.ContainerDSource {
			if w.c.PluginType != protocol.PluginTypeStaged || !w.c.Enabled {
				return nil
			}
			if len(w.c.Mounts) == 0 {
				j.Info("event.operation.skipped", fmt.Sprintf("Skipped linked.stop_staging(): the dSource %s was never mounted, so its staging never started.", w.c.Name))
				return nil
			}
			in, err := w.linkedIn(ctx)
			if err == nil {
				err = w.callOptional(ctx, "linked.stop_staging", in)
			}
			if err != nil {
				return skipped("linked.stop_staging()", err)
			}
			return nil
		}
		if w.c.SourceConfig == "" {
			j.Info("event.operation.skipped", fmt.Sprintf("Skipped virtual.unconfigure() and virtual.cleanup(): the VDB %s was never configured (its provisioning was cut off), so the plugin has nothing of it to clean up.", w.c.Name))
			return nil
		}
		in, err := w.virtualIn(ctx)
		if err != nil {
			return skipped("virtual.unconfigure() and virtual.cleanup()", err)
		}
		if !w.c.Enabled {
			if err := w.callOptional(ctx, "virtual.cleanup", in); err != nil {
				return skipped("virtual.cleanup()", err)
			}
			return nil
		}
		// A running VDB is stopped first: its stop hooks run around.
		err = w.around(ctx, "delete", "preStop", "postStop", false, func() error {
			if err := w.callOptional(ctx, "virtual.unconfigure", in); err != nil {
				if err := skipped("virtual.unconfigure()", err); err != nil {
					return err
				}
			}
			if err := w.callOptional(ctx, "virtual.cleanup", in); err != nil {
				return skipped("virtual.cleanup()", err)
			}
			return nil
		})
		var ae *actionError
		if err != nil && !errors.As(err, &ae) {
			return skipped("the stop hooks", err)
		}
		return err
	})
	if err != nil {
		var ae *actionError
		if !force || errors.As(err, &ae) {
			return err
		}
		// The plugin could not run at all (not installed, its repository
		// gone, ...): nothing of the clean-up ran.
		details, _, _ := describeFailure(err)
		j.Event("event.container.delete.skipped", fmt.Sprintf("Skipped the plugin's clean-up (--force): %s", details), nil, "WARNING", "RUNNING")
	}
	if err := e.removeContainer(ctx, j, ref); err != nil {
		return err
	}
	j.Info("event.container.deleted", fmt.Sprintf("Deleted %s with its storage and snapshots.", ref))
	return nil
}
