package core

import (
	"context"
	"fmt"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// snapshotOf says which snapshot a container operation works from.
type snapshotOf int

const (
	noSnapshot     snapshotOf = iota
	parentSnapshot            // the one named, else the newest of the VDB's parent (refresh)
	ownSnapshot               // the one named, else the VDB's newest (rollback)
)

// containerOp is an operation of POST delphix/database/{ref}/{op} (the
// workflows of docs/workflows.md). Which containers it applies to is the
// API contract's (engineapi.ContainerOps); the rest is here, once.
type containerOp struct {
	actionType string     // of its action and job
	snapshot   snapshotOf // the snapshot it needs
	// check refuses a request before a job starts (nil: none).
	check func(e *Engine, ctx context.Context, c *engineapi.Container, t *store.Toolkit, a *artifact.Artifact, p engineapi.ContainerOpParameters) error
	// run is the job.
	run func(e *Engine, ctx context.Context, j *jobs.Job, c *engineapi.Container, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error
}

// onContainer is a job that loads the container and runs a workflow step
// on it.
func onContainer(step func(w *wf, ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error) func(*Engine, context.Context, *jobs.Job, *engineapi.Container, engineapi.ContainerOpParameters, *engineapi.Snapshot) error {
	return func(e *Engine, ctx context.Context, j *jobs.Job, c *engineapi.Container, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
		return e.containerJob(ctx, j, c.Reference, func(w *wf) error { return step(w, ctx, p, snap) })
	}
}

// containerOps are the container operations, by name.
var containerOps = map[string]containerOp{
	"sync": {actionType: "DB_SYNC", run: onContainer((*wf).opSync),
		check: func(e *Engine, _ context.Context, _ *engineapi.Container, t *store.Toolkit, a *artifact.Artifact, p engineapi.ContainerOpParameters) error {
			return e.validateSnapshotParams(t, a, p.SnapshotParameters)
		}},
	"refresh": {actionType: "DB_REFRESH", snapshot: parentSnapshot,
		run: onContainer(hooked("refresh", "preRefresh", "postRefresh", false, func(w *wf, ctx context.Context, _ engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
			if err := w.reprovision(ctx, snap, "virtual.configure"); err != nil {
				return err
			}
			return w.hook(ctx, "configureClone", hookFailure{what: "refresh", after: true})
		}))},
	"rollback": {actionType: "DB_ROLLBACK", snapshot: ownSnapshot,
		run: onContainer(hooked("rollback", "preRollback", "postRollback", false, func(w *wf, ctx context.Context, _ engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
			return w.reprovision(ctx, snap, "virtual.reconfigure")
		}))},
	"snapshot": {actionType: "DB_SNAPSHOT", run: onContainer(hooked("snapshot", "preSnapshot", "postSnapshot", true, (*wf).opSnapshot))},
	"start":    {actionType: "DB_START", run: onContainer(hooked("start", "preStart", "postStart", false, (*wf).opStart))},
	"stop":     {actionType: "DB_STOP", run: onContainer(hooked("stop", "preStop", "postStop", false, (*wf).opStop))},
	"enable":   {actionType: "DB_ENABLE", run: onContainer((*wf).opEnable)},
	"disable": {actionType: "DB_DISABLE", run: onContainer(func(w *wf, ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
		if w.extendedHooks() { // start and stop hooks around enable and disable
			return w.around(ctx, "disable", "preStop", "postStop", false, func() error { return w.opDisable(ctx, p, snap) })
		}
		return w.opDisable(ctx, p, snap)
	})},
	"status": {actionType: "DB_STATUS", run: onContainer((*wf).opStatus)},
	"delete": {actionType: "DB_DELETE", check: (*Engine).checkDelete,
		run: func(e *Engine, ctx context.Context, j *jobs.Job, c *engineapi.Container, p engineapi.ContainerOpParameters, _ *engineapi.Snapshot) error {
			return e.deleteContainer(ctx, j, c.Reference, p.Force)
		}},
}

// contractOp is the API contract's description of an operation.
func contractOp(name string) (engineapi.ContainerOp, bool) {
	for _, o := range engineapi.ContainerOps {
		if o.Name == name {
			return o, true
		}
	}
	return engineapi.ContainerOp{}, false
}

// opSync syncs a dSource (a resync when p.Resync says so).
func (w *wf) opSync(ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
	if !w.c.Enabled {
		return failf(fmt.Sprintf("Enable it with dvp dsource enable %s, then sync again.", w.c.Name), "The dSource %s is disabled.", w.c.Name)
	}
	return w.sync(ctx, p.Resync, p.SnapshotParameters)
}

// reprovision makes a VDB a copy of snap again and configures it with
// op (refresh: virtual.configure; rollback: virtual.reconfigure).
func (w *wf) reprovision(ctx context.Context, snap *engineapi.Snapshot, cop string) error {
	in, err := w.virtualIn(ctx)
	if err != nil {
		return err
	}
	if w.c.SourceConfig == "" {
		w.j.Info("event.operation.skipped", fmt.Sprintf("Skipped virtual.unconfigure(): the VDB %s was never configured (its provisioning was cut off).", w.c.Name))
	} else if err := w.callOptional(ctx, "virtual.unconfigure", in); err != nil {
		return err
	}
	if err := w.replaceStorage(ctx, snap); err != nil {
		return err
	}
	if err := w.mountSpec(ctx); err != nil {
		return err
	}
	if err := w.configure(ctx, cop, snap); err != nil {
		return err
	}
	w.c.Runtime = "ACTIVE"
	if err := w.save(ctx); err != nil {
		return err
	}
	w.measure(ctx)
	return nil
}

// opSnapshot takes a snapshot of a VDB.
func (w *wf) opSnapshot(ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
	in, err := w.virtualIn(ctx)
	if err != nil {
		return err
	}
	if err := w.callOptional(ctx, "virtual.pre_snapshot", in); err != nil {
		return err
	}
	if err := w.syncBack(ctx); err != nil {
		return err
	}
	_, err = w.takeSnapshot(ctx, false, nil, w.postSnapshot(ctx, "virtual.post_snapshot", in))
	return err
}

// opStart mounts a VDB and runs virtual.start.
func (w *wf) opStart(ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
	if err := w.mountSpec(ctx); err != nil {
		return err
	}
	in, err := w.virtualIn(ctx)
	if err != nil {
		return err
	}
	if err := w.callOptional(ctx, "virtual.start", in); err != nil {
		return err
	}
	w.c.Runtime = "ACTIVE"
	return w.save(ctx)
}

// opStop runs virtual.stop.
func (w *wf) opStop(ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
	in, err := w.virtualIn(ctx)
	if err != nil {
		return err
	}
	if err := w.callOptional(ctx, "virtual.stop", in); err != nil {
		return err
	}
	w.c.Runtime = "INACTIVE"
	return w.save(ctx)
}

// opStatus asks the plugin the container's runtime status and records it.
func (w *wf) opStatus(ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
	dsource := w.c.ContainerType == engineapi.ContainerDSource
	staged := w.c.PluginType == protocol.PluginTypeStaged
	statusOp := "virtual.status"
	var in map[string]any
	var err error
	if dsource {
		statusOp = "linked.status"
		if !staged {
			w.j.Info("event.status", fmt.Sprintf("%s: ACTIVE (DIRECT dSources have no status operation).", w.c.Name))
			w.policyEvent(ctx)
			w.measure(ctx)
			return nil
		}
		in, err = w.linkedIn(ctx)
	} else {
		in, err = w.virtualIn(ctx)
	}
	if err != nil {
		return err
	}
	status := "ACTIVE"
	if w.run.HasOp(statusOp) {
		if err := w.run.Call(ctx, statusOp, in, &status); err != nil {
			return err
		}
	}
	w.c.Runtime = status
	w.j.Info("event.status", fmt.Sprintf("%s: %s.", w.c.Name, status))
	w.policyEvent(ctx)
	w.j.Result = status
	if err := w.save(ctx); err != nil {
		return err
	}
	w.measure(ctx)
	return nil
}

// opEnable enables a dSource (STAGED: mounts and starts staging) or a
// VDB (mounted and reconfigured when it is not running).
func (w *wf) opEnable(ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
	dsource := w.c.ContainerType == engineapi.ContainerDSource
	staged := w.c.PluginType == protocol.PluginTypeStaged
	if dsource {
		if staged {
			if err := w.mountSpec(ctx); err != nil {
				return err
			}
			in, err := w.linkedIn(ctx)
			if err != nil {
				return err
			}
			if err := w.callOptional(ctx, "linked.start_staging", in); err != nil {
				return err
			}
		}
		w.c.Enabled = true
		return w.save(ctx)
	}
	in, err := w.virtualIn(ctx)
	if err != nil {
		return err
	}
	status := "INACTIVE"
	if w.run.HasOp("virtual.status") {
		if err := w.run.Call(ctx, "virtual.status", in, &status); err != nil {
			return err
		}
	}
	if status == "INACTIVE" {
		start := func() error {
			if err := w.mountSpec(ctx); err != nil {
				return err
			}
			var s engineapi.Snapshot
			w.e.store.GetObject(ctx, store.KindSnapshot, w.c.ParentSnapshot, &s)
			return w.configure(ctx, "virtual.reconfigure", &s)
		}
		if w.extendedHooks() { // start and stop hooks around enable and disable
			err = w.around(ctx, "enable", "preStart", "postStart", false, start)
		} else {
			err = start()
		}
		if err != nil {
			return err
		}
	}
	w.c.Enabled, w.c.Runtime = true, "ACTIVE"
	return w.save(ctx)
}

// opDisable disables a dSource (STAGED: stops staging and unmounts) or
// a VDB (unconfigured and unmounted).
func (w *wf) opDisable(ctx context.Context, p engineapi.ContainerOpParameters, snap *engineapi.Snapshot) error {
	dsource := w.c.ContainerType == engineapi.ContainerDSource
	staged := w.c.PluginType == protocol.PluginTypeStaged
	if dsource {
		if staged && len(w.c.Mounts) == 0 {
			w.j.Info("event.operation.skipped", fmt.Sprintf("Skipped linked.stop_staging(): the dSource %s was never mounted, so its staging never started.", w.c.Name))
		} else if staged {
			in, err := w.linkedIn(ctx)
			if err != nil {
				return err
			}
			if err := w.callOptional(ctx, "linked.stop_staging", in); err != nil {
				return err
			}
			if err := w.unmountAll(ctx); err != nil {
				return err
			}
		}
		w.c.Enabled = false
		return w.save(ctx)
	}
	in, err := w.virtualIn(ctx)
	if err != nil {
		return err
	}
	if err := w.callOptional(ctx, "virtual.unconfigure", in); err != nil {
		return err
	}
	if err := w.unmountAll(ctx); err != nil {
		return err
	}
	w.c.Enabled, w.c.Runtime = false, "INACTIVE"
	return w.save(ctx)
}
