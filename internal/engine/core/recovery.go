package core

// Crash recovery of the engine's objects (docs/engine.md, "Crash
// recovery"). A stop of the engine at any moment (kill -9, a crash, a
// power cut) leaves jobs that were running, objects some step had changed
// and files some step had written. At the next start, before it serves a
// request, the engine puts every object in a defined state: each dSource
// and VDB is active, marked interrupted with the reason and what to do
// (a job that creates one records its intent, Pending, in the transaction
// that creates it), or gone; no job is left RUNNING (the store's
// recovery); snapshots that were being taken, and rows and directories no
// object refers to any more, are removed. The plugin processes of the
// jobs died with the engine (the sandbox's parent-death signal).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// Recovered counts what RecoverObjects did.
type Recovered struct {
	Containers   int // dSources and VDBs marked interrupted
	Environments int // environments marked interrupted, or removed (their addition cut off before the check passed)
	Snapshots    int // snapshots being taken, or of containers that are gone, removed
	Orphans      int // source configs and directories of objects (and builds) that are gone, removed
}

// RecoverObjects runs at start-up, after the store's recovery. interrupted
// are the jobs that were running when the engine stopped
// (store.InterruptedJobs, read before the store's recovery marked them
// FAILED): each gets a last event that says what the stop left, and the
// dSource or VDB it worked on is marked interrupted with the reason and
// what to do (interruption). Then it removes the snapshots a stop cut off
// (created, never completed) and those of containers that are gone, with
// their directories, VDB source configs whose VDB is gone, the storage and
// snapshot directories no object refers to, and the extracted executables
// of builds no longer installed.
func (e *Engine) RecoverObjects(ctx context.Context, interrupted []store.Job) (Recovered, error) {
	r := &recovery{e: e, envDone: map[string]bool{}, started: map[string]store.Job{}}
	err := r.load(ctx)
	if err == nil {
		err = r.endJobs(ctx, interrupted)
	}
	if err == nil {
		err = r.pendingEnvironments(ctx)
	}
	if err == nil {
		err = r.markContainers(ctx)
	}
	if err == nil {
		err = r.removeOrphanObjects(ctx)
	}
	if err == nil {
		err = r.removeOrphanDirs(ctx)
	}
	return r.rec, err
}

// recovery is one run of RecoverObjects: the objects as the stop left them
// and what its steps found and did.
type recovery struct {
	e          *Engine
	rec        Recovered
	containers []engineapi.Container
	byRef      map[string]engineapi.Container // the containers by reference
	envs       []engineapi.Environment
	envByRef   map[string]engineapi.Environment
	envDone    map[string]bool      // environments recovered already
	started    map[string]store.Job // the job that had begun on a container, by the container
	keepSnap   map[string]bool      // snapshots kept (removeOrphanObjects), by reference
}

// load reads the containers and the environments.
func (r *recovery) load(ctx context.Context) error {
	var err error
	if r.containers, err = listMasked[engineapi.Container](ctx, r.e.store, store.KindContainer); err != nil {
		return err
	}
	r.byRef = map[string]engineapi.Container{}
	for _, c := range r.containers {
		r.byRef[c.Reference] = c
	}
	if r.envs, err = listMasked[engineapi.Environment](ctx, r.e.store, store.KindEnvironment); err != nil {
		return err
	}
	r.envByRef = map[string]engineapi.Environment{}
	for _, env := range r.envs {
		r.envByRef[env.Reference] = env
	}
	return nil
}

// endJobs gives each interrupted job its last event, saying what the stop
// left and what to do. It records the jobs that had started (a queued job
// waited for its object's lock and changed nothing) on a container, and
// recovers the environment an environment job worked on.
func (r *recovery) endJobs(ctx context.Context, interrupted []store.Job) error {
	e := r.e
	for _, j := range interrupted {
		full, err := e.store.Job(ctx, j.ID)
		if err != nil || full == nil {
			continue
		}
		begun := false
		for _, ev := range full.Events {
			switch ev.MessageCode {
			case "event.job.started", "event.job.dequeued":
				begun = true
			case "event.job.queued": // waiting for the object's lock
				begun = false
			}
		}
		details, action := "The engine stopped while this job ran.", "Run the operation again."
		if strings.HasPrefix(j.ActionType, "TOOLKIT") {
			action = "Upload the plugin again."
		}
		if !begun {
			details = "The engine stopped while this job was queued: it never ran, and changed nothing."
		} else if c, ok := r.byRef[store.TextValue(j.Target)]; ok {
			r.started[c.Reference] = j
			if _, d, a := interruption(&c, j.ActionType, j.Ref()); d != "" {
				details, action = d, a
			}
		} else if env, ok := r.envByRef[store.TextValue(j.Target)]; ok && isEnvironmentJob(j.ActionType) && !r.envDone[env.Reference] {
			d, a, _, err := e.recoverEnvironment(ctx, env, j.ActionType, j.Ref())
			if err != nil {
				return err
			}
			details, action = d, a
			r.envDone[env.Reference] = true
			r.rec.Environments++
		}
		ev := e.newJobEvent("event.job.failed", details, &action, "ERROR", 100, "FAILED")
		if err := e.store.AddEvent(ctx, j.ID, "FAILED", ev); err != nil {
			return err
		}
	}
	return nil
}

// pendingEnvironments recovers each environment whose addition had not
// begun (or whose job is gone) and never passed its check.
func (r *recovery) pendingEnvironments(ctx context.Context) error {
	for _, env := range r.envs {
		if env.Pending != "" && !r.envDone[env.Reference] {
			if _, _, _, err := r.e.recoverEnvironment(ctx, env, env.Pending, ""); err != nil {
				return err
			}
			r.rec.Environments++
		}
	}
	return nil
}

// markContainers marks each container a started job or a creation intent
// left in an undefined state interrupted (interruption), with the reason
// and what to do.
func (r *recovery) markContainers(ctx context.Context) error {
	e := r.e
	for _, c := range r.containers {
		j, ok := r.started[c.Reference]
		if c.Pending == "" && !ok {
			continue
		}
		jobRef := ""
		if ok {
			jobRef = j.Ref()
		}
		runtime, details, action := interruption(&c, j.ActionType, jobRef)
		if details == "" {
			continue
		}
		// The whole document, secrets put back, to store it again.
		var full engineapi.Container
		if found, err := e.store.GetObject(ctx, store.KindContainer, c.Reference, &full); err != nil || !found {
			e.cfg.Log.Error("cannot mark an interrupted container", "container", c.Reference, "error", err)
			continue
		}
		op := j.ActionType
		if full.Pending != "" {
			op = full.Pending
		}
		full.Interrupted = &engineapi.Interruption{Job: jobRef, Operation: op, Details: details, Action: action}
		full.Pending = ""
		if runtime != "" {
			full.Runtime = runtime
		}
		if err := e.store.PutObject(ctx, store.KindContainer, full.Reference, full.Name, &full, e.cfg.Clock()); err != nil {
			return err
		}
		r.rec.Containers++
		e.cfg.Log.Warn("a stop of the engine interrupted a container", "container", full.Name, "reference", full.Reference, "details", details)
	}
	return nil
}

// removeOrphanObjects removes the snapshots being taken, or of containers
// that are gone, and the VDB source configs whose VDB is gone.
func (r *recovery) removeOrphanObjects(ctx context.Context) error {
	snaps, err := listMasked[engineapi.Snapshot](ctx, r.e.store, store.KindSnapshot)
	if err != nil {
		return err
	}
	var gone []store.ObjectKey
	r.keepSnap = map[string]bool{}
	for _, s := range snaps {
		if _, ok := r.byRef[s.Container]; s.Dir != "" && ok {
			r.keepSnap[s.Reference] = true
			continue
		}
		gone = append(gone, store.ObjectKey{Kind: store.KindSnapshot, Ref: s.Reference})
		r.rec.Snapshots++
	}
	configs, err := listMasked[engineapi.SourceConfig](ctx, r.e.store, store.KindSourceConfig)
	if err != nil {
		return err
	}
	for _, sc := range configs {
		if _, ok := r.byRef[sc.Container]; sc.Container != "" && !ok {
			gone = append(gone, store.ObjectKey{Kind: store.KindSourceConfig, Ref: sc.Reference})
			r.rec.Orphans++
		}
	}
	if len(gone) > 0 {
		return r.e.store.DeleteObjects(ctx, gone)
	}
	return nil
}

// removeOrphanDirs removes the storage and snapshot directories no object
// refers to, and the extracted plugin executables of builds no longer
// installed (an upgrade replaced them, or was cut off). os.RemoveAll
// removes a link, never what it points to.
func (r *recovery) removeOrphanDirs(ctx context.Context) error {
	e := r.e
	tks, err := e.store.Toolkits(ctx)
	if err != nil {
		return err
	}
	installed := map[string]bool{}
	for _, t := range tks {
		installed[t.SourceSHA256] = true
	}
	for dir, keep := range map[string]func(string) bool{
		store.StorageDir:   func(name string) bool { _, ok := r.byRef[name]; return ok },
		store.SnapshotsDir: func(name string) bool { return r.keepSnap[name] },
		store.PluginBinDir: func(name string) bool { return installed[name] },
	} {
		entries, err := os.ReadDir(filepath.Join(e.cfg.DataDir, dir))
		if err != nil {
			continue // none yet
		}
		for _, ent := range entries {
			if keep(ent.Name()) {
				continue
			}
			if err := os.RemoveAll(filepath.Join(e.cfg.DataDir, dir, ent.Name())); err != nil {
				return err
			}
			r.rec.Orphans++
		}
	}
	return nil
}

// listMasked decodes the stored documents of a kind as the API shows them
// (secrets masked): enough for references and states, and readable even
// without the secrets key.
func listMasked[T any](ctx context.Context, s *store.Store, kind string) ([]T, error) {
	raws, err := s.ListObjects(ctx, kind, "")
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(raws))
	for _, r := range raws {
		var v T
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// interruption says what a stop of the engine during the job jobRef of
// the action type op (empty: only the creation intent was left) means for
// the container c: its runtime status ("" to keep it), the details and
// the action. No details: the container's state is what it was (a sync,
// a snapshot or a status cut off changes nothing of it: the snapshot
// being taken is removed).
func interruption(c *engineapi.Container, op, jobRef string) (runtime, details, action string) {
	noun, cmd := containerNames[c.ContainerType], strings.ToLower(containerNames[c.ContainerType])
	during := "while no job ran"
	if jobRef != "" {
		during = "during " + jobRef
	}
	del := fmt.Sprintf("dvp %s delete %s", cmd, c.Name)
	switch {
	case c.Pending == "DB_LINK" || (c.Pending != "" && c.ContainerType == engineapi.ContainerDSource):
		return "FAILED", fmt.Sprintf("The engine stopped %s while dSource %s was being linked: its first sync did not finish.", during, c.Name),
			fmt.Sprintf("Sync it (dvp dsource sync %s) or delete it (%s).", c.Name, del)
	case c.Pending == "DB_CREATE_EMPTY":
		return "FAILED", fmt.Sprintf("The engine stopped %s while the empty VDB %s was being created: virtual.initialize did not finish.", during, c.Name),
			fmt.Sprintf("Delete it (%s), then create it again (dvp vdb create-empty).", del)
	case c.Pending != "":
		state := "it was never configured"
		if c.SourceConfig != "" {
			state = "it was configured, but its provisioning did not finish"
		}
		return "FAILED", fmt.Sprintf("The engine stopped %s while VDB %s was being provisioned: %s.", during, c.Name, state),
			fmt.Sprintf("Delete it (%s), or refresh it (dvp vdb refresh %s) to provision it again from its snapshot.", del, c.Name)
	}
	switch op {
	case "DB_REFRESH", "DB_ROLLBACK":
		what := map[string]string{"DB_REFRESH": "refresh", "DB_ROLLBACK": "rollback"}[op]
		return "UNKNOWN", fmt.Sprintf("The engine stopped %s, the %s of VDB %s: its data may be partly replaced, and it may be unconfigured.", during, what, c.Name),
			fmt.Sprintf("Run the %s again (dvp vdb %s %s), or delete the VDB (%s; add --force if the plugin's clean-up fails).", what, what, c.Name, del)
	case "DB_START", "DB_STOP", "DB_ENABLE", "DB_DISABLE":
		what := strings.ToLower(strings.TrimPrefix(op, "DB_"))
		return "UNKNOWN", fmt.Sprintf("The engine stopped %s, the %s of %s %s: it may or may not have taken effect.", during, what, noun, c.Name),
			fmt.Sprintf("Ask its status (dvp %s status %s), then run the %s again.", cmd, c.Name, what)
	case "DB_DELETE":
		return "FAILED", fmt.Sprintf("The engine stopped %s while %s %s was being deleted: the plugin's clean-up may have run, and the %s is only partly removed.", during, noun, c.Name, noun),
			fmt.Sprintf("Delete it again (%s); add --force if the plugin's clean-up fails now.", del)
	}
	return "", "", ""
}

// opKey carries, in a job's context, the action type of the container
// operation it runs (DB_SYNC, ...).
type opKey struct{}

func withOp(ctx context.Context, actionType string) context.Context {
	return context.WithValue(ctx, opKey{}, actionType)
}

func opOf(ctx context.Context) string {
	op, _ := ctx.Value(opKey{}).(string)
	return op
}

// repairs are, for each operation a stop can cut off, the operations
// that, completed, put the container back in a known state: the first
// sync of a link, the provisioning again (refresh), the replacement of
// the data again, a runtime operation. A delete cut off is repaired by
// nothing but a delete.
var repairs = map[string][]string{
	"DB_LINK":      {"DB_SYNC"},
	"DB_PROVISION": {"DB_REFRESH"},
	"DB_REFRESH":   {"DB_REFRESH", "DB_ROLLBACK"},
	"DB_ROLLBACK":  {"DB_REFRESH", "DB_ROLLBACK"},
	"DB_START":     {"DB_START", "DB_STOP", "DB_ENABLE", "DB_DISABLE", "DB_REFRESH", "DB_ROLLBACK"},
	"DB_STOP":      {"DB_START", "DB_STOP", "DB_ENABLE", "DB_DISABLE", "DB_REFRESH", "DB_ROLLBACK"},
	"DB_ENABLE":    {"DB_START", "DB_STOP", "DB_ENABLE", "DB_DISABLE", "DB_REFRESH", "DB_ROLLBACK"},
	"DB_DISABLE":   {"DB_START", "DB_STOP", "DB_ENABLE", "DB_DISABLE", "DB_REFRESH", "DB_ROLLBACK"},
}

// clearInterrupted is what the operation op does when it completed on
// the container: it ends the creation intent it stood for (op is the
// creating one), and the interruption it repairs (repairs). It tells
// whether the container changed.
func (w *wf) clearInterrupted(op string) bool {
	changed := false
	if w.c.Pending != "" && w.c.Pending == op {
		w.c.Pending, changed = "", true
	}
	if in := w.c.Interrupted; in != nil {
		for _, r := range repairs[in.Operation] {
			if r == op {
				w.c.Interrupted, changed = nil, true
				if w.c.Runtime == "FAILED" {
					w.c.Runtime = "UNKNOWN"
					if w.c.ContainerType == engineapi.ContainerDSource {
						w.c.Runtime = "ACTIVE"
					}
				}
				break
			}
		}
	}
	return changed
}
