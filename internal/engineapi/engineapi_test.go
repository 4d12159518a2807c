package engineapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

func encode(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func sp(s string) *string { return &s }

// The Job, JobEvent and Action objects keep the engine's key order and
// nulls: clients of the Delphix Engine read them.
func TestJobWireForm(t *testing.T) {
	j := Job{Type: "Job", Reference: "JOB-3", ActionType: "DB_SYNC", Title: "Sync <ds>", Target: sp("APPDATA_CONTAINER-1"),
		TargetObjectType: "AppDataContainer", JobState: JobCompleted, StartTime: "t0", UpdateTime: "t1", User: "USER-1",
		PercentComplete: 100, ParentAction: "ACTION-4", Events: []JobEvent{{Type: "JobEvent", Timestamp: "t1", State: sp(JobCompleted),
			PercentComplete: 100, MessageCode: "event.job.completed", MessageDetails: "done & dusted", EventType: "INFO", Diagnoses: []string{}}}}
	want := `{"type":"Job","reference":"JOB-3","namespace":null,"name":null,"actionType":"DB_SYNC","title":"Sync <ds>",` +
		`"target":"APPDATA_CONTAINER-1","targetObjectType":"AppDataContainer","targetName":null,"jobState":"COMPLETED",` +
		`"startTime":"t0","updateTime":"t1","suspendable":false,"cancelable":false,"queued":false,"user":"USER-1",` +
		`"emailAddresses":null,"cancelReason":null,"percentComplete":100,"parentAction":"ACTION-4","events":[` +
		`{"type":"JobEvent","timestamp":"t1","state":"COMPLETED","percentComplete":100,"messageCode":"event.job.completed",` +
		`"messageDetails":"done & dusted","messageAction":null,"messageCommandOutput":null,"eventType":"INFO","diagnoses":[]}]}` + "\n"
	if got := encode(t, j); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	a := Action{Type: "Action", Reference: "ACTION-4", Title: "T", Details: "D", ActionType: "TOOLKIT_UPLOAD", StartTime: "t0",
		User: "USER-1", State: JobFailed, FailureDescription: sp("bad"), FailureAction: sp("fix it"), FailureMessageCode: sp("exception.x")}
	want = `{"type":"Action","reference":"ACTION-4","namespace":null,"title":"T","details":"D","actionType":"TOOLKIT_UPLOAD",` +
		`"startTime":"t0","endTime":null,"user":"USER-1","userAgent":null,"parentAction":null,"state":"FAILED",` +
		`"failureDescription":"bad","failureAction":"fix it","failureMessageCode":"exception.x","report":null}` + "\n"
	if got := encode(t, a); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestEnvelopes(t *testing.T) {
	got := encode(t, OKResult[any]{Type: TypeOKResult, Status: StatusOK, Result: "x", Action: sp("ACTION-1")})
	if want := `{"type":"OKResult","status":"OK","result":"x","job":null,"action":"ACTION-1"}` + "\n"; got != want {
		t.Errorf("got %s want %s", got, want)
	}
	got = encode(t, ListResult[any]{Type: TypeListResult, Status: StatusOK, Result: []any{}, Total: 0})
	if want := `{"type":"ListResult","status":"OK","result":[],"job":null,"action":null,"total":0,"overflow":false}` + "\n"; got != want {
		t.Errorf("got %s want %s", got, want)
	}
	got = encode(t, ErrorResult{Type: TypeErrorResult, Status: StatusError, Error: APIError{Type: TypeAPIError, Details: "d", Action: "a", ID: "i", Diagnoses: []string{}}})
	if want := `{"type":"ErrorResult","status":"ERROR","error":{"type":"APIError","details":"d","action":"a","id":"i","commandOutput":null,"diagnoses":[]}}` + "\n"; got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

// Optional request fields are left out, so that a client sends only what
// it means.
func TestRequestBodies(t *testing.T) {
	got := encode(t, ContainerOpParameters{Type: TypeSyncParameters, Resync: true})
	if want := `{"type":"SyncParameters","resync":true}` + "\n"; got != want {
		t.Errorf("got %s want %s", got, want)
	}
	if got := encode(t, ContainerOpParameters{}); got != "{}\n" {
		t.Errorf("got %s", got)
	}
	got = encode(t, EnvironmentCreateParameters{Type: TypeEnvironmentCreateParameters, Name: "e", HostType: HostLocal})
	if want := `{"type":"EnvironmentCreateParameters","name":"e","hostType":"local"}` + "\n"; got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestRefs(t *testing.T) {
	if r := Ref(KindContainer, 7); r != "APPDATA_CONTAINER-7" {
		t.Errorf("Ref = %s", r)
	}
	for ref, want := range map[string]int64{"APPDATA_CONTAINER-7": 7, "APPDATA_CONTAINER-07": 0, "APPDATA_CONTAINER-0": 0, "APPDATA_SNAPSHOT-7": 0, "APPDATA_CONTAINER-x": 0} {
		if got := ParseRef(KindContainer, ref); got != want {
			t.Errorf("ParseRef(%q) = %d, want %d", ref, got, want)
		}
	}
}

func TestPaths(t *testing.T) {
	for got, want := range map[string]string{
		ContainerOpPath("my db/1", "sync"):   "delphix/database/my%20db%2F1/sync",
		EnvironmentOpPath("here", "refresh"): "delphix/environment/here/refresh",
		SnapshotsOfPath("ds"):                "delphix/snapshot?database=ds",
		JobPath("JOB-1"):                     "delphix/job/JOB-1",
		ActionJobPath("ACTION-2"):            "delphix/action/ACTION-2/getJob",
		DownloadPath("a b/c~"):               "delphix/data/downloadOutputStream?token=a%20b%2Fc~",
	} {
		if got != want {
			t.Errorf("got %s want %s", got, want)
		}
	}
	var ds, vdb []string
	for _, op := range ContainerOps {
		if op.AppliesTo(ContainerDSource) {
			ds = append(ds, op.Name)
		}
		if op.AppliesTo(ContainerVDB) {
			vdb = append(vdb, op.Name)
		}
	}
	if got, want := fmt.Sprint(ds), "[sync enable disable status delete]"; got != want {
		t.Errorf("dSource operations %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(vdb), "[refresh rollback snapshot start stop enable disable status delete]"; got != want {
		t.Errorf("VDB operations %s, want %s", got, want)
	}
}
