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

// Containers lists a page of the dSources and VDBs, and how many there
// are.
func (e *Engine) Containers(ctx context.Context, p Page) ([]json.RawMessage, int, error) {
	return e.listPage(ctx, store.KindContainer, "", p)
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
	if strings.TrimSpace(p.Name) == "" {
		return Started{}, badRequest("The dSource needs a name.", "Give it a name.")
	}
	var sc engineapi.SourceConfig
	if err := e.find(ctx, store.KindSourceConfig, "source config", p.SourceConfig, &sc); err != nil {
		return Started{}, err
	}
	if sc.Container != "" {
		return Started{}, conflict(fmt.Sprintf("The source config %q belongs to the VDB %s.", sc.Name, sc.Container), "Link another source config.")
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
	hooks, herr := checkHooks(engineapi.ContainerDSource, p.Name, p.Operations, false)
	if herr != nil {
		return Started{}, herr
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
	var c engineapi.Container
	ref, err := e.store.CreateObject(ctx, store.KindContainer, "", true, e.cfg.Clock(), func(ref string) (any, string) {
		c = engineapi.Container{Type: "AppDataContainer", Reference: ref, Name: p.Name, ContainerType: engineapi.ContainerDSource, Toolkit: t.Ref(), PluginType: pluginType,
			GUID: newGUID(), SourceConfig: sc.Reference, Repository: repo.Reference, Environment: envRef, SourceEnv: sc.Environment,
			Parameters: compact, Mounts: []engineapi.Mount{}, Enabled: true, Runtime: "ACTIVE",
			Storage: filepath.Join(e.cfg.DataDir, store.StorageDir, ref, "data"), Created: store.FormatTime(e.cfg.Clock()), Operations: hooks}
		if pluginType == protocol.PluginTypeDirect {
			c.SourceEnv = ""
		}
		return &c, p.Name
	})
	if errors.Is(err, store.ErrNameTaken) {
		return Started{}, conflict(fmt.Sprintf("A dSource or VDB named %q exists already.", p.Name), "Choose another name.")
	}
	if err != nil {
		return Started{}, internalErr(err)
	}
	if err := os.MkdirAll(c.Storage, 0o755); err != nil {
		return Started{}, internalErr(err)
	}
	snapParams := p.SnapshotParameters
	return e.startJob(caller, "DB_LINK", fmt.Sprintf("Link dSource %q", p.Name), ref, p.Name, ref, ref,
		func(ctx context.Context, j *jobs.Job) error {
			j.Info("event.dsource.linked", fmt.Sprintf("Linked dSource %s (%s) to source config %q; running its first sync (a resync).", p.Name, ref, sc.Name))
			err := e.containerJob(ctx, j, ref, func(w *wf) error { return w.sync(ctx, true, snapParams) })
			if err != nil {
				var je *jobError
				if !errors.As(err, &je) {
					_, action, _ := describeFailure(err)
					return &linkError{err: err, action: fmt.Sprintf("%s The dSource %s was created: fix the problem, then run its sync again (dvp dsource sync %s), or delete it.", action, p.Name, p.Name)}
				}
			}
			return err
		})
}

// linkError keeps a plugin failure of the first sync, with an action that
// says the dSource exists.
type linkError struct {
	err    error
	action string
}

func (l *linkError) Error() string { return l.err.Error() }
func (l *linkError) Unwrap() error { return l.err }

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
	return step(w)
}

// Provision creates a VDB from a snapshot; its job copies the snapshot,
// mounts it and runs virtual.configure. A VDB that fails to provision is
// removed.
func (e *Engine) Provision(ctx context.Context, caller Caller, p engineapi.ProvisionParameters) (Started, error) {
	if strings.TrimSpace(p.Name) == "" {
		return Started{}, badRequest("The VDB needs a name.", "Give it a name.")
	}
	var snap engineapi.Snapshot
	if err := e.find(ctx, store.KindSnapshot, "snapshot", p.Snapshot, &snap); err != nil {
		return Started{}, err
	}
	t, a, aerr := e.toolkitOf(ctx, snap.Toolkit)
	if aerr != nil {
		return Started{}, aerr
	}
	if aerr := e.validateParams(t, a, "virtualSourceDefinition", "VDB parameters", p.Parameters); aerr != nil {
		return Started{}, aerr
	}
	hooks, herr := checkHooks(engineapi.ContainerVDB, p.Name, p.Operations, false)
	if herr != nil {
		return Started{}, herr
	}
	var env engineapi.Environment
	if err := e.find(ctx, store.KindEnvironment, "environment", p.Environment, &env); err != nil {
		return Started{}, err
	}
	var repo *engineapi.Repository
	if p.Repository != "" {
		var aerr error
		if repo, aerr = e.findRepository(ctx, env.Reference, p.Repository); aerr != nil {
			return Started{}, aerr
		}
	} else {
		repos, err := store.ListAs[engineapi.Repository](ctx, e.store, store.KindRepository, env.Reference)
		if err != nil {
			return Started{}, internalErr(err)
		}
		for i := range repos {
			if repos[i].Toolkit == t.Ref() && repo == nil {
				repo = &repos[i]
			}
		}
		if repo == nil {
			return Started{}, notFound("repository", "of plugin "+a.Name+" on "+env.Name, "Refresh the environment so that the plugin discovers its repositories, or give --repository.")
		}
	}
	if repo.Toolkit != t.Ref() || repo.Environment != env.Reference {
		return Started{}, badRequest(fmt.Sprintf("The repository %q is not a repository of plugin %q on %s.", repo.Name, a.Name, env.Name), "Choose a repository of that plugin on the target environment.")
	}
	compact, _ := compactJSON(p.Parameters)
	var c engineapi.Container
	ref, err := e.store.CreateObject(ctx, store.KindContainer, "", true, e.cfg.Clock(), func(ref string) (any, string) {
		c = engineapi.Container{Type: "AppDataContainer", Reference: ref, Name: p.Name, ContainerType: engineapi.ContainerVDB, Toolkit: t.Ref(), PluginType: "VIRTUAL",
			GUID: newGUID(), Repository: repo.Reference, Environment: env.Reference, Parameters: compact, Mounts: []engineapi.Mount{},
			ParentSnapshot: snap.Reference, Parent: snap.Container, Enabled: true, Runtime: "UNKNOWN",
			Storage: filepath.Join(e.cfg.DataDir, store.StorageDir, ref, "data"), Created: store.FormatTime(e.cfg.Clock()), Operations: hooks}
		return &c, p.Name
	})
	if errors.Is(err, store.ErrNameTaken) {
		return Started{}, conflict(fmt.Sprintf("A dSource or VDB named %q exists already.", p.Name), "Choose another name.")
	}
	if err != nil {
		return Started{}, internalErr(err)
	}
	return e.startJob(caller, "DB_PROVISION", fmt.Sprintf("Provision VDB %q", p.Name), ref, p.Name, ref, ref,
		func(ctx context.Context, j *jobs.Job) error {
			err := e.containerJob(ctx, j, ref, func(w *wf) error {
				if err := w.replaceStorage(ctx, &snap); err != nil {
					return err
				}
				j.Progress(30)
				if err := w.mountSpec(ctx); err != nil {
					return err
				}
				j.Progress(60)
				if err := w.configure(ctx, "virtual.configure", &snap); err != nil {
					return err
				}
				w.c.Runtime = "ACTIVE"
				if err := w.save(ctx); err != nil {
					return err
				}
				return w.hook(ctx, "configureClone", hookFailure{what: "provision", after: true,
					action: fmt.Sprintf("The VDB %s is removed, as a VDB that fails to provision is: fix the configure-clone hook, then provision it again.", p.Name)})
			})
			if err != nil {
				// A VDB that failed to provision is removed, storage and all.
				e.removeContainer(context.Background(), j, ref)
				j.Info("event.vdb.removed", fmt.Sprintf("Removed the VDB %s that failed to provision.", p.Name))
			}
			return err
		})
}

// removeContainer unmounts and deletes a container, its snapshots, its
// source config (VDBs) and its storage.
func (e *Engine) removeContainer(ctx context.Context, j *jobs.Job, ref string) {
	var c engineapi.Container
	if ok, _ := e.store.GetObject(ctx, store.KindContainer, ref, &c); !ok {
		return
	}
	w := &wf{e: e, j: j, c: &c, envs: map[string]engineapi.Environment{}, x: map[string]exec.Executor{}}
	for _, m := range c.Mounts {
		w.unmountOne(ctx, m)
	}
	w.close()
	snaps, _ := store.ListAs[engineapi.Snapshot](ctx, e.store, store.KindSnapshot, ref)
	for _, s := range snaps {
		os.RemoveAll(filepath.Join(e.cfg.DataDir, store.SnapshotsDir, s.Reference))
		e.store.DeleteObject(ctx, store.KindSnapshot, s.Reference)
	}
	if c.ContainerType == engineapi.ContainerVDB && c.SourceConfig != "" {
		e.store.DeleteObject(ctx, store.KindSourceConfig, c.SourceConfig)
	}
	os.RemoveAll(filepath.Join(e.cfg.DataDir, store.StorageDir, ref))
	e.store.DeleteObject(ctx, store.KindContainer, ref)
}

// ContainerOp runs an operation of containerOps on a dSource or VDB (by
// reference or name) in a job.
func (e *Engine) ContainerOp(ctx context.Context, caller Caller, ref, op string, p engineapi.ContainerOpParameters) (Started, error) {
	spec, ok := containerOps[op]
	cop, inContract := contractOp(op)
	if !ok || !inContract {
		return Started{}, badRequest(fmt.Sprintf("%q is not an operation of dSources and VDBs.", op), "Use one of the operations docs/engine.md lists.")
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
		func(ctx context.Context, j *jobs.Job) error { return spec.run(e, ctx, j, &c, p, &snap) })
}

// opSnapshotOf finds the snapshot an operation works from: the one named,
// else the newest complete snapshot of the VDB's parent (parentSnapshot)
// or of the VDB (ownSnapshot).
func (e *Engine) opSnapshotOf(ctx context.Context, c *engineapi.Container, of snapshotOf, named string) (engineapi.Snapshot, error) {
	var snap engineapi.Snapshot
	if named != "" {
		err := e.find(ctx, store.KindSnapshot, "snapshot", named, &snap)
		return snap, err
	}
	parent := c.Parent
	if of == ownSnapshot {
		parent = c.Reference
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

// deleteContainer runs the delete workflow, then removes everything.
func (e *Engine) deleteContainer(ctx context.Context, j *jobs.Job, ref string) error {
	err := e.containerJob(ctx, j, ref, func(w *wf) error {
		if w.c.ContainerType == engineapi.ContainerDSource {
			if w.c.PluginType == protocol.PluginTypeStaged && w.c.Enabled {
				in, err := w.linkedIn(ctx)
				if err != nil {
					return err
				}
				return w.callOptional(ctx, "linked.stop_staging", in)
			}
			return nil
		}
		in, err := w.virtualIn(ctx)
		if err != nil {
			return err
		}
		if !w.c.Enabled {
			return w.callOptional(ctx, "virtual.cleanup", in)
		}
		// A running VDB is stopped first: its stop hooks run around.
		return w.around(ctx, "delete", "preStop", "postStop", false, func() error {
			if err := w.callOptional(ctx, "virtual.unconfigure", in); err != nil {
				return err
			}
			return w.callOptional(ctx, "virtual.cleanup", in)
		})
	})
	if err != nil {
		return err
	}
	e.removeContainer(ctx, j, ref)
	j.Info("event.container.deleted", fmt.Sprintf("Deleted %s with its storage and snapshots.", ref))
	return nil
}
