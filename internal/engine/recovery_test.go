package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// TestRecoveryAfterAStopMidWorkflow leaves in a data directory what a
// stop of the engine (kill -9) in the middle of workflows leaves — a VDB
// whose provisioning was cut off before virtual.configure (its creation
// intent still set, its job RUNNING), a dSource whose delete was cut off,
// a job of another dSource still queued (it never ran), a snapshot being
// taken, and directories of objects that are gone — and starts the
// engine on it: no job is RUNNING (each says what the stop left), the VDB
// and the dSource are marked interrupted with the reason and what to do
// (the queued job's dSource is not), the snapshot and the orphans are
// gone. The VDB's
// operations are refused (it was never configured) except delete, which
// skips the plugin's clean-up and says so, and removes its mount and
// storage; the dSource is deleted again. (internal/engine/e2e
// TestKillMatrix causes the same with real kill -9s.)
func TestRecoveryAfterAStopMidWorkflow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	te := startEngine(t, dir, func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(stagedArtifact(t, enginetest.DefaultID, "staged", testPlugin(t, "staged"))); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	tmp := t.TempDir()
	_, sc := c.localSource(tmp, nil)
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": sc,
		"parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt", "ds")}}))
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds2", "sourceConfig": sc,
		"parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt", "ds2")}}))
	snap := c.list("delphix/snapshot?database=ds")[0]["reference"].(string)
	vmnt := filepath.Join(tmp, "mnt", "vdb")
	prov := c.call("POST", "delphix/database/provision", map[string]any{"name": "vdb", "snapshot": snap, "environment": "here",
		"parameters": map[string]any{"mountLocation": vmnt}})
	vdbRef := resultString(t, prov)
	c.mustComplete("provision", prov)

	// What a stop leaves: the VDB as before virtual.configure, with its
	// provision job running; ds2's delete job running; a snapshot of ds
	// being taken; directories of objects that are gone.
	ctx := context.Background()
	st := te.store
	var vdb engineapi.Container
	if ok, err := st.GetObject(ctx, store.KindContainer, vdbRef, &vdb); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := st.DeleteObject(ctx, store.KindSourceConfig, vdb.SourceConfig); err != nil {
		t.Fatal(err)
	}
	vdb.SourceConfig, vdb.Pending, vdb.Runtime = "", "DB_PROVISION", "UNKNOWN"
	if err := st.PutObject(ctx, store.KindContainer, vdbRef, vdb.Name, &vdb, te.clock.now()); err != nil {
		t.Fatal(err)
	}
	running := func(actionType, target string, more ...string) string {
		now := store.FormatTime(te.clock.now())
		act := &store.Action{ActionType: actionType, Title: actionType, State: "RUNNING", StartTime: now}
		job := &store.Job{ActionType: actionType, Title: actionType, State: "RUNNING", StartTime: now, UpdateTime: now}
		job.Target = store.Text(target)
		if err := st.InsertActionWithJob(ctx, act, job); err != nil {
			t.Fatal(err)
		}
		for _, code := range append([]string{"event.job.started"}, more...) {
			if err := st.AddEvent(ctx, job.ID, "RUNNING", store.JobEvent{Timestamp: now, MessageCode: code, Details: code, EventType: "INFO"}); err != nil {
				t.Fatal(err)
			}
		}
		return job.Ref()
	}
	provJob := running("DB_PROVISION", vdbRef)
	var ds2 engineapi.Container
	st.FindObject(ctx, store.KindContainer, "ds2", &ds2)
	delJob := running("DB_DELETE", ds2.Reference)
	var dsC engineapi.Container
	st.FindObject(ctx, store.KindContainer, "ds", &dsC)
	queuedJob := running("DB_DISABLE", dsC.Reference, "event.job.queued") // never ran
	partial, err := st.CreateObject(ctx, store.KindSnapshot, dsC.Reference, false, te.clock.now(), func(ref string) (any, string) {
		return &engineapi.Snapshot{Type: "AppDataSnapshot", Reference: ref, Name: ref, Container: dsC.Reference, Toolkit: dsC.Toolkit}, ref
	})
	if err != nil {
		t.Fatal(err)
	}
	orphans := []string{filepath.Join(dir, store.SnapshotsDir, partial, "data"), filepath.Join(dir, store.StorageDir, "APPDATA_CONTAINER-999", "data"),
		filepath.Join(dir, store.SnapshotsDir, "APPDATA_SNAPSHOT-999", "data")}
	for _, o := range orphans {
		os.MkdirAll(o, 0o700)
	}
	te.stop()

	te = startEngine(t, dir, func(c *Config) { c.Clock = nil })
	c = te.client(t)
	c.login(testPassword)
	for _, job := range []string{provJob, delJob, queuedJob} {
		var j struct {
			JobState string `json:"jobState"`
			Events   []struct {
				Details string `json:"messageDetails"`
			} `json:"events"`
		}
		json.Unmarshal(c.call("GET", "delphix/job/"+job, nil).Result, &j)
		want := "The engine stopped during " + job
		if job == queuedJob {
			want = "The engine stopped while this job was queued: it never ran"
		}
		if j.JobState != "FAILED" || len(j.Events) == 0 || !strings.Contains(j.Events[len(j.Events)-1].Details, want) {
			t.Errorf("%s after the restart: %+v", job, j)
		}
	}
	var got engineapi.Container
	json.Unmarshal(c.call("GET", "delphix/database/vdb", nil).Result, &got)
	if got.Runtime != "FAILED" || got.Pending != "" || got.Interrupted == nil || got.Interrupted.Job != provJob || got.Interrupted.Operation != "DB_PROVISION" ||
		!strings.Contains(got.Interrupted.Details, "was being provisioned: it was never configured") || !strings.Contains(got.Interrupted.Action, "dvp vdb delete vdb") {
		t.Errorf("the VDB after the restart: %+v %+v", got, got.Interrupted)
	}
	got = engineapi.Container{}
	json.Unmarshal(c.call("GET", "delphix/database/ds2", nil).Result, &got)
	if got.Runtime != "FAILED" || got.Interrupted == nil || got.Interrupted.Operation != "DB_DELETE" || !strings.Contains(got.Interrupted.Action, "--force") {
		t.Errorf("ds2 after the restart: %+v %+v", got, got.Interrupted)
	}
	got = engineapi.Container{}
	json.Unmarshal(c.call("GET", "delphix/database/ds", nil).Result, &got)
	if got.Runtime != "ACTIVE" || got.Interrupted != nil {
		t.Errorf("ds, whose job was queued and never ran, after the restart: %s %+v", got.Runtime, got.Interrupted)
	}
	if n := len(c.list("delphix/snapshot?database=ds")); n != 1 {
		t.Errorf("ds has %d snapshots: the one being taken was not removed", n)
	}
	for _, o := range orphans {
		if _, err := os.Stat(filepath.Dir(o)); !os.IsNotExist(err) {
			t.Errorf("%s was not removed: %v", o, err)
		}
	}

	// Never configured: its operations are refused, but for delete and
	// refresh.
	if env := c.call("POST", "delphix/database/vdb/start", nil); env.code != 409 || !strings.Contains(env.Error.Details, "never configured") {
		t.Errorf("start of a VDB never configured: %d %+v", env.code, env.Error)
	}
	events := c.mustComplete("delete the VDB", c.call("POST", "delphix/database/vdb/delete", nil))
	if all := strings.Join(events, "\n"); !strings.Contains(all, "Skipped virtual.unconfigure() and virtual.cleanup(): the VDB vdb was never configured") {
		t.Errorf("the delete does not say what it skipped:\n%s", all)
	}
	if _, err := os.Lstat(vmnt); !os.IsNotExist(err) {
		t.Errorf("the VDB's mount is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, store.StorageDir, vdbRef)); !os.IsNotExist(err) {
		t.Errorf("the VDB's storage is still there: %v", err)
	}
	c.mustComplete("delete ds2 again", c.call("POST", "delphix/database/ds2/delete", nil))
	c.mustComplete("delete ds", c.call("POST", "delphix/database/ds/delete", nil))
	if n := len(c.list("delphix/database")) + len(c.list("delphix/snapshot")); n != 0 {
		t.Errorf("%d containers and snapshots left", n)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, store.StorageDir)); len(left) != 0 {
		t.Errorf("storage left: %v", left)
	}
}
