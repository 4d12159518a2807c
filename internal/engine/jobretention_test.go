package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
)

// jobRefs lists the references of the engine's jobs, oldest first.
func (c *client) jobRefs() []string {
	c.t.Helper()
	var refs []string
	for _, j := range c.list("delphix/job") {
		refs = append(refs, j["reference"].(string))
	}
	return refs
}

// gone checks that each reference answers 404 (GET delphix/job/REF or
// delphix/action/REF).
func (c *client) gone(kind string, refs ...string) {
	c.t.Helper()
	for _, ref := range refs {
		if env := c.call("GET", "delphix/"+kind+"/"+ref, nil); env.code != 404 {
			c.t.Errorf("%s %s: %d %+v; want it pruned (404)", kind, ref, env.code, env.Error)
		}
	}
}

func (c *client) present(kind string, refs ...string) {
	c.t.Helper()
	for _, ref := range refs {
		if env := c.call("GET", "delphix/"+kind+"/"+ref, nil); env.code != 200 {
			c.t.Errorf("%s %s: %d %+v; want it kept", kind, ref, env.code, env.Error)
		}
	}
}

// TestJobHistoryBounded: the engine keeps its job history bounded — by
// count (--keep-jobs, 3 here) and by age (--keep-jobs-for, 24 h here) —
// deleting an ended job with its events and action, and the actions
// without a job (plugin installs) likewise; the latest job of each object
// stays whatever its age.
func TestJobHistoryBounded(t *testing.T) {
	te := startEngine(t, "", func(c *Config) {
		c.KeepJobs = 3
		c.KeepJobsFor = 24 * time.Hour
	})
	c := te.client(t)
	c.login(testPassword)
	type started struct{ job, action string }
	run := func(what, path string, body any) started {
		t.Helper()
		env := c.call("POST", path, body)
		c.mustComplete(what, env)
		return started{*env.Job, *env.Action}
	}
	addA := run("add a", "delphix/environment", map[string]any{"name": "a", "hostType": "local"})
	addB := run("add b", "delphix/environment", map[string]any{"name": "b", "hostType": "local"})
	var refreshes []started
	for range 4 {
		refreshes = append(refreshes, run("refresh a", "delphix/environment/a/refresh", nil))
	}
	// (Installed after the environments' jobs, whose discovery would run
	// these synthetic plugins.)
	var installs []string // actions without a job
	for i := range 5 {
		env := c.upload(enginetest.Bytes(enginetest.Options{ID: fmt.Sprintf("0f9e3c4a-7b21-4d2e-9a55-%012d", i), Name: fmt.Sprintf("p%d", i)}))
		if env.Type != "OKResult" || env.Action == nil || env.Job != nil {
			t.Fatalf("install %d: %+v", i, env)
		}
		installs = append(installs, *env.Action)
	}
	if n := len(c.jobRefs()); n != 6 {
		t.Fatalf("%d jobs before the prune, want 6", n)
	}

	te.Engine.core.PruneJobs(context.Background())
	// By count: the newest 3 jobs stay, and b's only job, its latest.
	if got, want := fmt.Sprint(c.jobRefs()), fmt.Sprint([]string{addB.job, refreshes[1].job, refreshes[2].job, refreshes[3].job}); got != want {
		t.Errorf("jobs after pruning to 3: %s, want %s", got, want)
	}
	c.gone("job", addA.job, refreshes[0].job)
	c.gone("action", addA.action, refreshes[0].action)
	c.present("action", addB.action, refreshes[3].action)
	c.gone("action", installs[:2]...)
	c.present("action", installs[2:]...)

	// By age: a day later only the latest job of each environment stays.
	te.clock.advance(25 * time.Hour)
	te.Engine.core.PruneJobs(context.Background())
	c.login(testPassword) // the session expired meanwhile
	if got, want := fmt.Sprint(c.jobRefs()), fmt.Sprint([]string{addB.job, refreshes[3].job}); got != want {
		t.Errorf("jobs after a day: %s, want %s (each environment's latest)", got, want)
	}
	c.gone("action", installs...)
	c.present("action", addB.action, refreshes[3].action)
}

// TestJobHistoryKeepsRunningAndNamedJobs: pruning never deletes a running
// job, nor the job a snapshot names (the link's, here no longer its
// dSource's latest), nor an object's latest.
func TestJobHistoryKeepsRunningAndNamedJobs(t *testing.T) {
	te, c, src := slowSetup(t, func(c *Config) { c.KeepJobs = 1 })
	env := c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": src, "parameters": map[string]any{"mountLocation": filepath.Join(t.TempDir(), "mnt")}})
	c.mustComplete("link", env)
	link := *env.Job
	refresh1 := c.call("POST", "delphix/environment/here/refresh", nil)
	c.mustComplete("refresh", refresh1)
	refresh2 := c.call("POST", "delphix/environment/here/refresh", nil)
	c.mustComplete("refresh", refresh2)
	os.WriteFile(filepath.Join(src, "hang"), nil, 0o644)
	sync := c.call("POST", "delphix/database/ds/sync", map[string]any{})
	if sync.Job == nil {
		t.Fatalf("sync: %+v", sync)
	}
	defer c.call("POST", "delphix/job/"+*sync.Job+"/cancel", nil)
	if j := c.job(*sync.Job, 0); j.JobState != "RUNNING" {
		t.Fatalf("the sync is %s, want RUNNING", j.JobState)
	}
	te.Engine.core.PruneJobs(context.Background())
	c.present("job", link, *refresh2.Job, *sync.Job)
	c.gone("job", *refresh1.Job)
	if n := len(c.list("delphix/snapshot")); n != 1 {
		t.Errorf("%d snapshots, want the link's", n)
	}
}
