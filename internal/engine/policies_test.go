package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engine/sched"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// The policy tests run the scheduler on a sched.FakeClock: an hour of
// schedules passes without sleeping.

// policyOf returns a container's policy as GET delphix/database shows it.
func (c *client) policyOf(name string) *engineapi.Policy {
	c.t.Helper()
	var ct engineapi.Container
	env := c.call("GET", "delphix/database/"+name, nil)
	if env.Type != "OKResult" || json.Unmarshal(env.Result, &ct) != nil {
		c.t.Fatalf("GET %s: %+v", name, env)
	}
	return ct.Policy
}

// awaitPolicyJob waits (bounded) until the container's policy started a
// job other than prev, then for that job; it returns the job and its
// events.
func (c *client) awaitPolicyJob(name, prev string) (string, []string) {
	c.t.Helper()
	for i := 0; i < 3000; i++ {
		if p := c.policyOf(name); p != nil && p.LastJob != "" && p.LastJob != prev {
			job := p.LastJob
			return job, c.mustComplete("policy job of "+name, envelope{Type: "OKResult", Job: &job})
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("the policy of %s started no job", name)
	return "", nil
}

func TestPoliciesSyncRefreshRetainAndSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := sched.NewFakeClock(t0)
	te := startEngine(t, dir, func(c *Config) { c.Clock, c.SchedClock = nil, clock })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(stagedArtifact(t, enginetest.DefaultID, "staged", testPlugin(t, "staged"))); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	tmp := t.TempDir()
	c.mustComplete("environment add", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	src := filepath.Join(tmp, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "one.txt"), []byte("v1"), 0o644)
	scRef := resultString(t, c.call("POST", "delphix/sourceconfig", map[string]any{"environment": "here", "repository": "repo-hello-here", "parameters": map[string]any{"path": src}}))
	linkBody := func(policy map[string]any) map[string]any {
		return map[string]any{"name": "ds", "sourceConfig": scRef, "parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt", "ds")}, "policy": policy}
	}

	// Refusals name the option and create nothing.
	for _, bad := range []struct {
		policy map[string]any
		want   string
	}{
		{map[string]any{"every": "5x"}, `--sync-every: "5x" is not a duration`},
		{map[string]any{"every": "100ms"}, `shorter than 1s`},
		{map[string]any{"schedule": "0 2 * *"}, `--sync-schedule: "0 2 * *" has 4 field(s)`},
		{map[string]any{"every": "1h", "schedule": "0 2 * * *"}, "Give --sync-every or --sync-schedule, not both."},
		{map[string]any{"keepSnapshots": -1}, "--keep-snapshots -1 is negative."},
	} {
		env := c.call("POST", "delphix/database/link", linkBody(bad.policy))
		if env.code != 400 || !strings.Contains(env.Error.Details, bad.want) {
			t.Errorf("policy %v: %d %+v", bad.policy, env.code, env.Error)
		}
	}
	if n := len(c.list("delphix/database")); n != 0 {
		t.Fatalf("refused links created %d containers", n)
	}

	// Link with a sync policy every minute, keeping two snapshots. The
	// first sync is the link's own, with snapshot parameters.
	c.mustComplete("link", c.call("POST", "delphix/database/link", linkBody(map[string]any{"every": "1m", "keepSnapshots": 2})))
	p := c.policyOf("ds")
	if p == nil || p.Operation != "sync" || p.Every != "1m0s" || p.KeepSnapshots != 2 || p.NextRun != "2026-03-01T09:01:00.000Z" || p.LastJob != "" {
		t.Fatalf("policy after link: %+v", p)
	}
	snaps := c.list("delphix/snapshot?database=ds")
	if len(snaps) != 1 || snaps[0]["metadata"].(map[string]any)["policyDriven"] != false {
		t.Fatalf("the link's sync: %v", snaps)
	}
	snap1 := snaps[0]["reference"].(string)

	// A minute later the policy syncs, with null snapshot parameters.
	clock.Advance(time.Minute)
	job1, events := c.awaitPolicyJob("ds", "")
	all := strings.Join(events, "\n")
	if !strings.Contains(all, "The sync policy of ds (every 1m0s) runs this sync, due at 2026-03-01T09:01:00.000Z. Its snapshot parameters are null") {
		t.Errorf("policy sync events:\n%s", all)
	}
	snaps = c.list("delphix/snapshot?database=ds")
	if len(snaps) != 2 || snaps[1]["metadata"].(map[string]any)["policyDriven"] != true || snaps[1]["snapshotParameters"] != nil {
		t.Fatalf("the policy's sync: %v", snaps)
	}
	if p := c.policyOf("ds"); p.NextRun != "2026-03-01T09:02:00.000Z" || p.LastRun != "2026-03-01T09:01:00.000Z" {
		t.Errorf("policy after a run: %+v", p)
	}

	// A VDB on the oldest snapshot keeps it past retention.
	c.mustComplete("provision", c.call("POST", "delphix/database/provision", map[string]any{"name": "vdb", "snapshot": snap1, "environment": "here",
		"parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt", "vdb")}, "policy": map[string]any{"every": "90m"}}))
	clock.Advance(time.Minute)
	job2, events := c.awaitPolicyJob("ds", job1)
	all = strings.Join(events, "\n")
	if !strings.Contains(all, "Kept snapshot "+snap1) || !strings.Contains(all, "the VDB(s) vdb depend on it") ||
		!strings.Contains(all, "0 snapshot(s) deleted, 1 kept for VDBs, 3 kept in all") {
		t.Errorf("retention with a VDB's snapshot:\n%s", all)
	}
	snap2 := snaps[1]["reference"].(string)
	clock.Advance(time.Minute)
	_, events = c.awaitPolicyJob("ds", job2)
	all = strings.Join(events, "\n")
	if !strings.Contains(all, "Deleted snapshot "+snap2) || !strings.Contains(all, "1 snapshot(s) deleted, 1 kept for VDBs, 3 kept in all") {
		t.Errorf("retention:\n%s", all)
	}
	snaps = c.list("delphix/snapshot?database=ds")
	if len(snaps) != 3 || snaps[0]["reference"] != snap1 || snaps[1]["reference"] == snap2 {
		t.Errorf("snapshots after retention: %v", snaps)
	}
	if _, err := os.Stat(filepath.Join(dir, "snapshots", snap2)); !os.IsNotExist(err) {
		t.Errorf("the deleted snapshot's directory: %v", err)
	}

	// The VDB's refresh policy runs 90 minutes after provision (the
	// dSource's sync runs once too, however many minutes passed).
	lastDS := c.policyOf("ds").LastJob
	clock.Advance(90 * time.Minute)
	_, events = c.awaitPolicyJob("vdb", "")
	if all := strings.Join(events, "\n"); !strings.Contains(all, "The refresh policy of vdb (every 1h30m0s) runs this refresh") || !strings.Contains(all, "virtual.configure") {
		t.Errorf("refresh policy:\n%s", all)
	}
	c.awaitPolicyJob("ds", lastDS)
	if p := c.policyOf("ds"); p.NextRun != "2026-03-01T10:34:00.000Z" {
		t.Errorf("after 90 minutes at once, the next sync is at %s", p.NextRun)
	}

	// Status shows the policy.
	events = c.mustComplete("status", c.call("POST", "delphix/database/ds/status", nil))
	if all := strings.Join(events, "\n"); !strings.Contains(all, "ds: sync policy every 1m0s; next sync at 2026-03-01T10:34:00.000Z; keeps the newest 2 snapshot(s).") {
		t.Errorf("status events:\n%s", all)
	}

	// A restart an hour later: each policy runs once, at once, and says
	// it stands for the runs missed.
	lastDS = c.policyOf("ds").LastJob
	te.stop()
	clock2 := sched.NewFakeClock(t0.Add(3 * time.Hour))
	te = startEngine(t, dir, func(c *Config) { c.Clock, c.SchedClock = nil, clock2 })
	c = te.client(t)
	c.login(testPassword)
	_, events = c.awaitPolicyJob("ds", lastDS)
	if all := strings.Join(events, "\n"); !strings.Contains(all, "This sync fell due at 2026-03-01T10:34:00.000Z while the engine was stopped: the runs missed then are not caught up, this one stands for them all.") {
		t.Errorf("missed run:\n%s", all)
	}
	if p := c.policyOf("ds"); p.NextRun != "2026-03-01T12:01:00.000Z" || p.Every != "1m0s" || p.KeepSnapshots != 2 {
		t.Errorf("policy after the restart: %+v", p)
	}

	// A run due while the dSource is disabled is skipped, and says why.
	c.mustComplete("disable", c.call("POST", "delphix/database/ds/disable", nil))
	clock2.Advance(time.Minute)
	for i := 0; ; i++ {
		p := c.policyOf("ds")
		if p.LastSkipped != "" {
			if p.LastSkipped != "The sync due at 2026-03-01T12:01:00.000Z did not run: the dSource is disabled." || p.NextRun != "2026-03-01T12:02:00.000Z" {
				t.Errorf("skipped run: %+v", p)
			}
			break
		}
		if i == 3000 {
			t.Fatalf("no skipped run: %+v", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.mustComplete("enable", c.call("POST", "delphix/database/ds/enable", nil))

	// Updates change a policy: checked at once, applied by a job.
	if env := c.call("POST", "delphix/database/vdb", map[string]any{"type": "AppDataContainer", "policy": map[string]any{"schedule": "0 3 * *"}}); env.code != 400 ||
		!strings.Contains(env.Error.Details, `--refresh-schedule: "0 3 * *" has 4 field(s)`) {
		t.Errorf("a bad update: %d %+v", env.code, env.Error)
	}
	events = c.mustComplete("update vdb", c.call("POST", "delphix/database/vdb", map[string]any{"type": "AppDataContainer", "policy": map[string]any{"schedule": "0 3 * * *", "keepSnapshots": 4}}))
	if p := c.policyOf("vdb"); p.Every != "" || p.Schedule != "0 3 * * *" || p.KeepSnapshots != 4 || p.NextRun == "" {
		t.Errorf("the VDB's policy after an update: %+v", p)
	}
	if all := strings.Join(events, "\n"); !strings.Contains(all, "VDB vdb: its refresh policy is cron 0 3 * * * (next refresh at ") || !strings.Contains(all, "it keeps the newest 4 snapshot(s)") {
		t.Errorf("update events:\n%s", all)
	}
	c.mustComplete("update ds", c.call("POST", "delphix/database/ds", map[string]any{"policy": map[string]any{"every": "", "keepSnapshots": 0}}))
	if p := c.policyOf("ds"); p != nil {
		t.Errorf("a policy turned off is still there: %+v", p)
	}

	// Deleting the containers deletes their policies.
	c.mustComplete("delete vdb", c.call("POST", "delphix/database/vdb/delete", nil))
	c.mustComplete("delete ds", c.call("POST", "delphix/database/ds/delete", nil))
	rows, err := te.store.Policies(t.Context())
	if err != nil || len(rows) != 0 {
		t.Errorf("policies left: %v %v", rows, err)
	}
}

// A policy run that falls due while the policy's previous job still runs
// is skipped, never queued behind it; canceling a queued or running policy
// job frees the policy.
func TestPolicyRunsDoNotPileUp(t *testing.T) {
	clock := sched.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	te := startEngine(t, "", func(c *Config) { c.Clock, c.SchedClock = nil, clock })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(slowArtifact(t)); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	c.mustComplete("environment add", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	if env := c.call("POST", "delphix/sourceconfig", map[string]any{"environment": "here", "repository": "slow", "parameters": map[string]any{"path": src}}); env.Type != "OKResult" {
		t.Fatalf("source config: %+v", env)
	}
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": src,
		"parameters": map[string]any{"mountLocation": filepath.Join(t.TempDir(), "mnt")}, "policy": map[string]any{"every": "1m"}}))

	// The first policy sync hangs in its pre-snapshot.
	os.WriteFile(filepath.Join(src, "hang"), nil, 0o644)
	clock.Advance(time.Minute)
	var first string
	for i := 0; first == "" && i < 3000; i++ {
		first = c.policyOf("ds").LastJob
		time.Sleep(10 * time.Millisecond)
	}
	if first == "" {
		t.Fatal("the policy started no job")
	}
	c.waitFor(first, "ran", func(j engineapi.Job) bool { return j.JobState == "RUNNING" && !j.Queued && waitingProcesses(src) == 1 })

	// Two periods later: skipped, the running job still the last.
	clock.Advance(time.Minute)
	for i := 0; ; i++ {
		p := c.policyOf("ds")
		if p.LastSkipped != "" {
			want := "The sync due at 2026-03-01T09:02:00.000Z did not run: the sync its policy started before (" + first + ") had not ended."
			if p.LastSkipped != want || p.LastJob != first || p.NextRun != "2026-03-01T09:03:00.000Z" {
				t.Errorf("skipped run: %+v", p)
			}
			break
		}
		if i == 3000 {
			t.Fatalf("no skipped run: %+v", p)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Canceled, the policy runs again at its next time (and the hang is
	// gone: it completes).
	if env := c.call("POST", "delphix/job/"+first+"/cancel", nil); env.Type != "OKResult" {
		t.Fatalf("cancel: %+v", env)
	}
	c.waitFor(first, "ended", func(j engineapi.Job) bool { return j.JobState == "CANCELED" })
	os.Remove(filepath.Join(src, "hang"))
	clock.Advance(time.Minute)
	next, _ := c.awaitPolicyJob("ds", first)
	if p := c.policyOf("ds"); p.LastJob != next || p.LastSkipped != "" {
		t.Errorf("after the cancel: %+v", p)
	}
}
