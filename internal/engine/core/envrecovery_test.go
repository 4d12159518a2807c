package core

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// A stop of the engine during an environment's addition, before its
// check passed, removes it at the next start with what its discovery had
// found; one cut off later (a refresh) is marked interrupted with what to
// do, and a completed discovery clears the mark.
func TestRecoveryOfEnvironments(t *testing.T) {
	e := newTestEngine(t)
	ctx := t.Context()
	now := time.Now()
	add := func(kind, parent string, v func(ref string) any) string {
		t.Helper()
		ref, err := e.store.CreateObject(ctx, kind, parent, false, now, func(ref string) (any, string) { return v(ref), ref })
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	scratch := t.TempDir()
	newEnv := func(name, pending string) string {
		return add(store.KindEnvironment, "", func(ref string) any {
			return &engineapi.Environment{Type: "UnixHostEnvironment", Reference: ref, Name: name, HostType: engineapi.HostLocal, Pending: pending,
				ScratchPath: filepath.Join(scratch, ref)}
		})
	}
	cut := newEnv("cut", pendingEnvironmentCreate)
	repo := add(store.KindRepository, cut, func(ref string) any {
		return &engineapi.Repository{Type: "AppDataRepository", Reference: ref, Name: "r", Environment: cut}
	})
	sc := add(store.KindSourceConfig, repo, func(ref string) any {
		return &engineapi.SourceConfig{Type: "AppDataDirectSourceConfig", Reference: ref, Name: "s", Repository: repo}
	})
	kept := newEnv("kept", "")
	keptRepo := add(store.KindRepository, kept, func(ref string) any {
		return &engineapi.Repository{Type: "AppDataRepository", Reference: ref, Name: "r", Environment: kept}
	})

	rec, err := e.RecoverObjects(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Environments != 1 {
		t.Errorf("recovered %+v, want one environment", rec)
	}
	for _, o := range []struct{ kind, ref string }{{store.KindEnvironment, cut}, {store.KindRepository, repo}, {store.KindSourceConfig, sc}} {
		var v map[string]any
		if found, _ := e.store.GetObject(ctx, o.kind, o.ref, &v); found {
			t.Errorf("%s %s of the environment whose addition was cut off is left", o.kind, o.ref)
		}
	}
	var env engineapi.Environment
	if found, _ := e.store.GetObject(ctx, store.KindEnvironment, kept, &env); !found || env.Interrupted != nil {
		t.Errorf("the other environment: found %v, interrupted %+v", found, env.Interrupted)
	}
	if found, _ := e.store.GetObject(ctx, store.KindRepository, keptRepo, &map[string]any{}); !found {
		t.Error("the other environment's repository is gone")
	}

	// A refresh cut off: marked, with what to do; a discovery clears it.
	details, action, removed, err := e.recoverEnvironment(ctx, env, "ENVIRONMENT_REFRESH", "JOB-7")
	if err != nil || removed {
		t.Fatal(err, removed)
	}
	e.store.GetObject(ctx, store.KindEnvironment, kept, &env)
	if in := env.Interrupted; in == nil || in.Job != "JOB-7" || in.Operation != "ENVIRONMENT_REFRESH" || in.Details != details || in.Action != action ||
		!strings.Contains(details, "The engine stopped during JOB-7, the refresh of environment kept") || !strings.Contains(action, "dvp environment refresh kept") {
		t.Errorf("marked %+v (%q, %q)", env.Interrupted, details, action)
	}
	started, err := e.RefreshEnvironment(ctx, Caller{User: "admin", UserRef: "USER-1"}, kept)
	if err != nil {
		t.Fatal(err)
	}
	e.Wait()
	if job, err := e.Job(ctx, started.Job, 0); err != nil || job.JobState != "COMPLETED" {
		t.Fatalf("refresh: %+v %v", job, err)
	}
	env = engineapi.Environment{}
	e.store.GetObject(ctx, store.KindEnvironment, kept, &env)
	if env.Interrupted != nil || env.LastRefresh == "" {
		t.Errorf("after a discovery: interrupted %+v, last refresh %q", env.Interrupted, env.LastRefresh)
	}
}
