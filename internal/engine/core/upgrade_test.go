package core

import (
	"bytes"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engine/store"
)

// ingestBuild uploads the synthetic plugin of a build to e as the API does
// (api/upload.go: the artifact scanned, its code decoded into a spool,
// then Ingest) and waits for the upgrade it starts, if any.
func ingestBuild(t *testing.T, e *Engine, build string) {
	t.Helper()
	src := e.NewSourceSpool()
	fields, err := artifact.Scan(bytes.NewReader(enginetest.Bytes(enginetest.Options{BuildNumber: build})), artifact.ScanOptions{SourceCode: func(r io.Reader) error {
		_, err := io.Copy(src, base64.NewDecoder(base64.StdEncoding, r))
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, handedOff, err := e.Ingest(Caller{User: "admin", UserRef: "USER-1"}, &Upload{Fields: fields, Source: src, Filename: "artifact.json"})
	if !handedOff {
		src.Discard()
	}
	if err != nil {
		t.Fatalf("build %s: %v", build, err)
	}
	e.jobs.Wait()
}

// TestUpgradeJobFailsWhenOvertaken drives the upgrade job directly: another
// upload installed a higher build after this one was answered, so the
// job's own check refuses it and the job and its action end FAILED with
// the details and the action.
func TestUpgradeJobFailsWhenOvertaken(t *testing.T) {
	e := newTestEngine(t)
	ctx := t.Context()
	ingestBuild(t, e, "1")
	ingestBuild(t, e, "5")
	old := enginetest.Artifact(enginetest.Options{BuildNumber: "1"}, nil)
	next := enginetest.Artifact(enginetest.Options{BuildNumber: "3"}, nil)
	if cur, err := e.store.ToolkitByPluginID(ctx, next.PluginID); err != nil || cur == nil || cur.BuildNumber != "5" {
		t.Fatalf("upgrade to 5: %+v %v", cur, err)
	}
	now := store.FormatTime(e.cfg.Clock())
	act := &store.Action{ActionType: "TOOLKIT_UPLOAD", Title: "t", Details: "d", State: "RUNNING", UserRef: "USER-1", StartTime: now}
	job := &store.Job{ActionType: "TOOLKIT_UPGRADE", Title: "t", State: "RUNNING", UserRef: "USER-1", StartTime: now, UpdateTime: now}
	if err := e.store.InsertActionWithJob(ctx, act, job); err != nil {
		t.Fatal(err)
	}
	src, err := e.store.NewSpool("source")
	if err != nil {
		t.Fatal(err)
	}
	src.Write(enginetest.Zip(enginetest.Options{BuildNumber: "3"}))
	row := &store.Toolkit{PluginID: next.PluginID, Name: next.Name, BuildNumber: "3", ArtifactJSON: "{}", Installed: now, Updated: now}
	e.runUpgrade(&upgrade{act: act, job: job, src: src, row: row, a: next, old: old, who: "admin", filename: "artifact.json"})
	j, err := e.ActionJob(ctx, act.Ref(), 0)
	if err != nil {
		t.Fatal(err)
	}
	last := j.Events[len(j.Events)-1]
	if j.JobState != "FAILED" || last.MessageCode != "event.toolkit.upgrade.failed" || last.EventType != "ERROR" ||
		!strings.Contains(last.MessageDetails, "build 3 is older than the installed build 5") || last.MessageAction == nil {
		t.Errorf("job %s, last event %+v", j.JobState, last)
	}
	a, err := e.Action(ctx, act.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if a.State != "FAILED" || store.TextValue(a.FailureDescription) == "" || store.TextValue(a.FailureAction) == "" {
		t.Errorf("action %+v", a)
	}
	if cur, err := e.store.ToolkitByPluginID(ctx, next.PluginID); err != nil || cur.BuildNumber != "5" {
		t.Errorf("the failed job changed the plugin: %+v %v", cur, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.cfg.DataDir, store.TmpDir)); len(entries) != 0 {
		t.Errorf("spool left: %v", entries)
	}
}
