package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engine/jobs"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// The job-control tests run testdata/plugins/slow, whose sync waits in a
// command while its source directory holds a file "hang" (pre-snapshot)
// or "hang-post" (post-snapshot), in a process named "slow-wait:SRC".

// slowArtifact wraps testdata/plugins/slow with its schemas.
func slowArtifact(t testing.TB) []byte {
	o := enginetest.SlowPlugin(testPlugin(t, "slow"))
	b, err := artifact.Marshal(enginetest.Artifact(o, nil))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// slowSetup starts an engine whose jobs beat every 100 ms (then configured
// by each of more), with the slow plugin, a local environment and a source
// config whose directory it returns.
func slowSetup(t *testing.T, more ...func(*Config)) (*testEngine, *client, string) {
	te := startEngine(t, "", func(c *Config) {
		c.Clock = nil
		c.JobHeartbeat = 100 * time.Millisecond
		for _, m := range more {
			m(c)
		}
	})
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
	return te, c, src
}

func (c *client) job(ref string, since int) engineapi.Job {
	c.t.Helper()
	path := "delphix/job/" + ref
	if since > 0 {
		path += fmt.Sprintf("?eventsSince=%d", since)
	}
	env := c.call("GET", path, nil)
	var j engineapi.Job
	if env.Type != "OKResult" || json.Unmarshal(env.Result, &j) != nil {
		c.t.Fatalf("GET %s: %+v", path, env)
	}
	return j
}

// waitFor polls the job until cond holds (at most 2,000 polls, 10 ms
// apart: the work is bounded, not the time).
func (c *client) waitFor(ref, what string, cond func(j engineapi.Job) bool) engineapi.Job {
	c.t.Helper()
	var j engineapi.Job
	for range 2000 {
		if j = c.job(ref, 0); cond(j) {
			return j
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("job %s never %s: %s\n%s", ref, what, j.JobState, eventText(j))
	return j
}

func eventText(j engineapi.Job) string {
	var b strings.Builder
	for _, ev := range j.Events {
		b.WriteString(ev.MessageDetails + "\n")
	}
	return b.String()
}

func hasEvent(j engineapi.Job, substr string) bool { return strings.Contains(eventText(j), substr) }

// waitingProcesses counts the processes named slow-wait:SRC.
func waitingProcesses(src string) int {
	n := 0
	ds, _ := os.ReadDir("/proc")
	for _, d := range ds {
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && strings.HasPrefix(string(b), "slow-wait:"+src+"\x00") {
			n++
		}
	}
	return n
}

// A sync that hangs streams its command's output and heartbeats; a second
// sync says it is queued behind it; events can be read from a cursor;
// canceling the queued job ends it before it runs, canceling the running
// one ends its command, leaves no snapshot and the dSource usable.
func TestCancelASyncAndTheQueueBehindIt(t *testing.T) {
	_, c, src := slowSetup(t)
	mnt := filepath.Join(t.TempDir(), "mnt")
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": src, "parameters": map[string]any{"mountLocation": mnt}}))

	os.WriteFile(filepath.Join(src, "lines"), []byte("3\n"), 0o644)
	os.WriteFile(filepath.Join(src, "hang"), nil, 0o644)
	sync1 := c.call("POST", "delphix/database/ds/sync", map[string]any{})
	j1 := *sync1.Job
	// (The output comes before the command execs its waiting process: on
	// a loaded machine the job may show it first.)
	running := c.waitFor(j1, "streamed its output and a heartbeat while running, and started its command", func(j engineapi.Job) bool {
		return j.JobState == "RUNNING" && hasEvent(j, "run_bash on here: copying part 3") && hasEvent(j, `Still running: Sync dSource "ds" (`) && waitingProcesses(src) > 0
	})
	if !running.Cancelable || running.Queued {
		t.Errorf("running job: cancelable %v, queued %v", running.Cancelable, running.Queued)
	}
	if n := waitingProcesses(src); n != 1 {
		t.Fatalf("%d waiting processes, want 1", n)
	}

	// The cursor: only the events after the first n.
	all := c.job(j1, 0)
	tail := c.job(j1, 2)
	if len(all.Events) < 3 || len(tail.Events) < len(all.Events)-2 || tail.Events[0].MessageDetails != all.Events[2].MessageDetails {
		t.Errorf("eventsSince=2: %d events, first %q; all: %d events", len(tail.Events), tail.Events[0].MessageDetails, len(all.Events))
	}
	if j := c.job(j1, 1<<20); len(j.Events) != 0 || j.JobState != "RUNNING" {
		t.Errorf("eventsSince past the end: %+v", j)
	}
	if env := c.call("GET", "delphix/job/"+j1+"?eventsSince=-1", nil); env.code != 400 || !strings.Contains(env.Error.Details, "eventsSince") {
		t.Errorf("a bad cursor: %d %+v", env.code, env.Error)
	}

	// A second sync waits, and says behind which job.
	j2 := *c.call("POST", "delphix/database/ds/sync", map[string]any{}).Job
	queued := c.waitFor(j2, "said it was queued", func(j engineapi.Job) bool {
		return hasEvent(j, fmt.Sprintf(`Queued behind %s (Sync dSource "ds")`, j1))
	})
	if !queued.Queued || queued.JobState != "RUNNING" {
		t.Errorf("queued job: %+v", queued)
	}
	var listed []engineapi.Job
	json.Unmarshal(c.call("GET", "delphix/job?jobState=RUNNING&target=ds", nil).Result, &listed)
	if len(listed) != 2 || listed[0].Reference != j1 || listed[1].Reference != j2 || !listed[1].Queued {
		t.Errorf("running jobs of ds: %+v", listed)
	}
	if env := c.call("GET", "delphix/job?jobState=BOGUS", nil); env.code != 400 {
		t.Errorf("a bad state filter: %d", env.code)
	}

	// Canceling the queued job: it ends without running.
	if env := c.call("POST", "delphix/job/"+j2+"/cancel", nil); env.Type != "OKResult" {
		t.Fatalf("cancel %s: %+v", j2, env)
	}
	done2 := c.waitFor(j2, "ended", func(j engineapi.Job) bool { return j.JobState != "RUNNING" })
	if done2.JobState != engineapi.JobCanceled || hasEvent(done2, "Running the plugin operation") || !hasEvent(done2, "canceled by admin") {
		t.Errorf("the queued job: %s\n%s", done2.JobState, eventText(done2))
	}

	// Canceling the running one ends its command.
	if env := c.call("POST", "delphix/job/"+j1+"/cancel", nil); env.Type != "OKResult" {
		t.Fatalf("cancel %s: %+v", j1, env)
	}
	done1 := c.waitFor(j1, "ended", func(j engineapi.Job) bool { return j.JobState != "RUNNING" })
	last := done1.Events[len(done1.Events)-1]
	if done1.JobState != engineapi.JobCanceled || last.State == nil || *last.State != "CANCELED" ||
		!strings.Contains(last.MessageDetails, `Sync dSource "ds": canceled by admin. No snapshot was taken`) {
		t.Errorf("the canceled job: %s\n%s", done1.JobState, eventText(done1))
	}
	var act engineapi.Action
	json.Unmarshal(c.call("GET", "delphix/action/"+done1.ParentAction, nil).Result, &act)
	if act.State != "CANCELED" {
		t.Errorf("its action: %+v", act)
	}
	if n := waitingProcesses(src); n != 0 {
		t.Errorf("%d processes of the canceled job remain", n)
	}
	if env := c.call("POST", "delphix/job/"+j1+"/cancel", nil); env.code != 409 || !strings.Contains(env.Error.Details, "is not running: it is CANCELED") {
		t.Errorf("canceling it again: %d %+v", env.code, env.Error)
	}

	// The dSource is usable: a sync completes, with one new snapshot.
	os.Remove(filepath.Join(src, "hang"))
	c.mustComplete("sync after the cancel", c.call("POST", "delphix/database/ds/sync", map[string]any{}))
	if n := len(c.list("delphix/snapshot?database=ds")); n != 2 {
		t.Errorf("%d snapshots, want the link's and the last sync's", n)
	}

	// Output is bounded: at most jobs.MaxOutputLines lines, then one event
	// saying the rest is left out.
	os.WriteFile(filepath.Join(src, "lines"), []byte(fmt.Sprint(jobs.MaxOutputLines+50)), 0o644)
	events := c.mustComplete("a sync that prints much", c.call("POST", "delphix/database/ds/sync", map[string]any{}))
	printed := strings.Count(strings.Join(events, "\n"), "run_bash on here: copying part ")
	if printed != jobs.MaxOutputLines || !strings.Contains(strings.Join(events, "\n"), fmt.Sprintf("Further command output is left out: a job records at most %d lines.", jobs.MaxOutputLines)) {
		t.Errorf("%d output lines recorded, want %d and the notice", printed, jobs.MaxOutputLines)
	}
}

// A snapshot being taken is not listed; canceling its job removes it. A
// canceled link removes its dSource, and linking again works. The
// engine's stop cancels a running sync.
func TestCancelDuringSnapshotAndLink(t *testing.T) {
	te, c, src := slowSetup(t)
	mnt := filepath.Join(t.TempDir(), "mnt")
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": src, "parameters": map[string]any{"mountLocation": mnt}}))

	os.WriteFile(filepath.Join(src, "hang-post"), nil, 0o644)
	j := *c.call("POST", "delphix/database/ds/sync", map[string]any{}).Job
	c.waitFor(j, "took its snapshot", func(j engineapi.Job) bool { return hasEvent(j, "Took snapshot") })
	if n := len(c.list("delphix/snapshot?database=ds")); n != 1 {
		t.Errorf("%d snapshots listed while one is being taken, want the complete one", n)
	}
	if n := len(c.list("delphix/snapshot")); n != 1 {
		t.Errorf("%d snapshots listed in all, want 1", n)
	}
	c.call("POST", "delphix/job/"+j+"/cancel", nil)
	if done := c.waitFor(j, "ended", func(j engineapi.Job) bool { return j.JobState != "RUNNING" }); done.JobState != engineapi.JobCanceled {
		t.Errorf("state %s", done.JobState)
	}
	if n := waitingProcesses(src); n != 0 {
		t.Errorf("%d processes of the canceled job remain", n)
	}
	os.Remove(filepath.Join(src, "hang-post"))

	// A canceled link: the dSource is removed; a link again completes.
	os.WriteFile(filepath.Join(src, "hang"), nil, 0o644)
	mnt2 := filepath.Join(t.TempDir(), "mnt2")
	link := c.call("POST", "delphix/database/link", map[string]any{"name": "ds2", "sourceConfig": src, "parameters": map[string]any{"mountLocation": mnt2}})
	c.waitFor(*link.Job, "started its command", func(engineapi.Job) bool { return waitingProcesses(src) == 1 })
	c.call("POST", "delphix/job/"+*link.Job+"/cancel", nil)
	done := c.waitFor(*link.Job, "ended", func(j engineapi.Job) bool { return j.JobState != "RUNNING" })
	if done.JobState != engineapi.JobCanceled || !hasEvent(done, "The dSource ds2 was removed") {
		t.Errorf("canceled link: %s\n%s", done.JobState, eventText(done))
	}
	for _, ct := range c.list("delphix/database") {
		if ct["name"] == "ds2" {
			t.Errorf("the canceled link left its dSource: %v", ct)
		}
	}
	if _, err := os.Lstat(mnt2); !os.IsNotExist(err) {
		t.Errorf("the canceled link left its mount: %v", err)
	}
	os.Remove(filepath.Join(src, "hang"))
	c.mustComplete("link again", c.call("POST", "delphix/database/link", map[string]any{"name": "ds2", "sourceConfig": src, "parameters": map[string]any{"mountLocation": mnt2}}))
	if n := waitingProcesses(src); n != 0 {
		t.Errorf("%d waiting processes at the end", n)
	}

	// The engine's graceful stop (dvp engine serve on SIGTERM) cancels a
	// running sync: CANCELED saying that the engine stopped and what the
	// sync left, not FAILED as if the plugin had failed.
	os.WriteFile(filepath.Join(src, "hang"), nil, 0o644)
	sync := *c.call("POST", "delphix/database/ds2/sync", map[string]any{}).Job
	c.waitFor(sync, "started its command", func(engineapi.Job) bool { return waitingProcesses(src) == 1 })
	te.core.Stop()
	te.core.Wait()
	stopped := c.job(sync, 0)
	if stopped.JobState != engineapi.JobCanceled ||
		!hasEvent(stopped, `Sync dSource "ds2": canceled because the engine stopped (a graceful stop of dvp engine serve). No snapshot was taken`) ||
		hasEvent(stopped, "The engine failed") {
		t.Errorf("a sync the engine's stop ended: %s\n%s", stopped.JobState, eventText(stopped))
	}
	if n := waitingProcesses(src); n != 0 {
		t.Errorf("%d processes of the sync outlived the engine's stop", n)
	}
}
