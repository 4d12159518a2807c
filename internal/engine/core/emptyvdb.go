// Empty VDBs (docs/workflows.md, "Workflows"): a VDB made by the plugin's
// virtual.initialize on empty storage rather than from a snapshot.

package core

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// CreateEmptyVDB creates a VDB with empty storage on a repository of an
// environment; its job mounts the storage as the plugin's
// virtual.mount_specification says and runs virtual.initialize, whose
// source config becomes the VDB's. A VDB that fails to initialize is
// removed, as one that fails to provision.
func (e *Engine) CreateEmptyVDB(ctx context.Context, caller Caller, p engineapi.EmptyVDBParameters) (Started, error) {
	caller, release, rerr := e.reserveJob(caller, fmt.Sprintf("Create empty VDB %q", p.Name))
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
	if p.Repository == "" {
		return Started{}, badRequest("An empty VDB needs a repository.", "Give the repository on the target environment (dvp vdb create-empty --repository REPO); dvp source-config list shows them.")
	}
	var env engineapi.Environment
	if err := e.find(ctx, store.KindEnvironment, "environment", p.Environment, &env); err != nil {
		return Started{}, err
	}
	repo, aerr := e.findRepository(ctx, env.Reference, p.Repository)
	if aerr != nil {
		return Started{}, aerr
	}
	if repo.Environment != env.Reference {
		return Started{}, badRequest(fmt.Sprintf("The repository %q is not on the environment %s.", repo.Name, env.Name), "Choose a repository of the target environment.")
	}
	t, a, aerr := e.toolkitOf(ctx, repo.Toolkit)
	if aerr != nil {
		return Started{}, aerr
	}
	if !a.Manifest.HasInitialize {
		return Started{}, badRequest(fmt.Sprintf("The plugin %q does not implement virtual.initialize: it cannot create empty VDBs.", a.Name),
			"Provision the VDB from a snapshot (dvp vdb provision), or implement the initialize operation in the plugin and upload it again.")
	}
	if aerr := e.validateParams(t, a, "virtualSourceDefinition", "VDB parameters", p.Parameters); aerr != nil {
		return Started{}, aerr
	}
	compact, _ := compactJSON(p.Parameters)
	c, err := e.createContainer(ctx, p.Name, func(ref string) *engineapi.Container {
		return &engineapi.Container{Type: "AppDataContainer", Reference: ref, Name: p.Name, ContainerType: engineapi.ContainerVDB, Toolkit: t.Ref(), PluginType: "VIRTUAL",
			GUID: newGUID(), Repository: repo.Reference, Environment: env.Reference, Parameters: compact, Mounts: []engineapi.Mount{},
			Enabled: true, Runtime: "UNKNOWN", Storage: filepath.Join(e.cfg.DataDir, store.StorageDir, ref, "data"), Created: store.FormatTime(e.cfg.Clock()),
			Pending: "DB_CREATE_EMPTY"}
	})
	if err != nil {
		return Started{}, err
	}
	ref := c.Reference
	return e.startJob(caller, "DB_CREATE_EMPTY", fmt.Sprintf("Create empty VDB %q", p.Name), ref, p.Name, ref, ref,
		func(ctx context.Context, j *jobs.Job) error {
			err := e.containerJob(withOp(ctx, "DB_CREATE_EMPTY"), j, ref, func(w *wf) error {
				if err := os.MkdirAll(w.c.Storage, 0o755); err != nil {
					return err
				}
				if err := w.mountSpec(ctx); err != nil {
					return err
				}
				j.Progress(40)
				if err := w.initialize(ctx); err != nil {
					return err
				}
				w.c.Runtime = "ACTIVE"
				if err := w.save(ctx); err != nil {
					return err
				}
				w.measure(ctx)
				return nil
			})
			if err != nil {
				e.removeContainer(context.Background(), j, ref)
				j.Info("event.vdb.removed", fmt.Sprintf("Removed the VDB %s that failed to initialize.", p.Name))
			}
			return err
		})
}

// initialize runs virtual.initialize on the mounted, empty storage and
// stores the source config it returns as the VDB's.
func (w *wf) initialize(ctx context.Context) error {
	vs, err := w.virtualSource(ctx, true)
	if err != nil {
		return err
	}
	var out json.RawMessage
	if err := w.run.Call(ctx, "virtual.initialize", map[string]any{"virtual_source": vs, "repository": w.repo.Parameters}, &out); err != nil {
		return err
	}
	return w.storeSourceConfig(ctx, "virtual.initialize", out)
}
