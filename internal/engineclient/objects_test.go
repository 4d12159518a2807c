package engineclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// fakeEngine answers from a table of "METHOD path" -> body and records the
// requests it got.
type fakeEngine struct {
	mu      sync.Mutex
	answers map[string]string
	got     []string // "METHOD path?query body"
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	key := r.Method + " " + strings.TrimPrefix(r.URL.EscapedPath(), engineapi.APIPrefix)
	if q := WithoutPaging(r.URL.RawQuery); q != "" { // the lists are short: one page
		key += "?" + q
	}
	f.mu.Lock()
	f.got = append(f.got, strings.TrimSpace(key+" "+string(b)))
	ans, ok := f.answers[key]
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": "The thing does not exist.", "action": "Look elsewhere.", "id": "x"}}`)
		return
	}
	io.WriteString(w, ans)
}

func ok(result string, job, action string) string {
	q := func(s string) string {
		if s == "" {
			return "null"
		}
		return `"` + s + `"`
	}
	return `{"type": "OKResult", "status": "OK", "result": ` + result + `, "job": ` + q(job) + `, "action": ` + q(action) + `}`
}

func listOf(items string) string {
	return `{"type": "ListResult", "status": "OK", "result": [` + items + `], "job": null, "action": null, "total": 1, "overflow": false}`
}

// The typed methods send the contract's paths and bodies and decode the
// answers into the contract's types.
func TestObjectRequests(t *testing.T) {
	f := &fakeEngine{answers: map[string]string{
		"POST delphix/environment":                  ok(`"UNIX_HOST_ENVIRONMENT-1"`, "JOB-1", "ACTION-1"),
		"POST delphix/environment/my%20env/refresh": ok(`"UNIX_HOST_ENVIRONMENT-1"`, "JOB-2", "ACTION-2"),
		"POST delphix/environment/here/delete":      ok(`""`, "JOB-3", "ACTION-3"),
		"POST delphix/sourceconfig":                 ok(`"APPDATA_SOURCE_CONFIG-1"`, "", "ACTION-4"),
		"POST delphix/database/link":                ok(`"APPDATA_CONTAINER-1"`, "JOB-5", "ACTION-5"),
		"POST delphix/database/ds/sync":             ok(`"APPDATA_SNAPSHOT-2"`, "JOB-6", "ACTION-6"),
		"POST delphix/database/vdb/rollback":        ok(`""`, "JOB-7", "ACTION-7"),
		"POST delphix/database/provision":           ok(`"APPDATA_CONTAINER-2"`, "JOB-8", "ACTION-8"),
		"GET delphix/environment":                   listOf(`{"type": "UnixHostEnvironment", "reference": "UNIX_HOST_ENVIRONMENT-1", "name": "here", "hostType": "local", "user": "me", "host": "h"}`),
		"GET delphix/sourceconfig":                  listOf(`{"reference": "APPDATA_SOURCE_CONFIG-1", "name": "data", "parameters": {"path": "/srv"}}`),
		"GET delphix/database":                      listOf(`{"reference": "APPDATA_CONTAINER-1", "name": "ds", "containerType": "DSOURCE", "enabled": true, "mounts": [{"environment": "E", "mountPath": "/m", "method": "symlink"}]}`),
		"GET delphix/snapshot?database=ds%2F1":      listOf(`{"reference": "APPDATA_SNAPSHOT-2", "resync": true, "metadata": {"a": 1}}`),
		"GET delphix/job/JOB-1":                     ok(`{"type": "Job", "reference": "JOB-1", "jobState": "COMPLETED", "events": []}`, "", ""),
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	ctx := context.Background()

	s, err := c.CreateEnvironment(ctx, engineapi.EnvironmentCreateParameters{Name: "here", HostType: engineapi.HostLocal})
	if err != nil || s.Job != "JOB-1" || s.Action != "ACTION-1" || string(s.Result) != `"UNIX_HOST_ENVIRONMENT-1"` {
		t.Fatalf("create: %+v %v", s, err)
	}
	mustStart := func(s *Started, err error) {
		t.Helper()
		if err != nil || s.Action == "" {
			t.Fatalf("%+v %v", s, err)
		}
	}
	mustStart(c.RefreshEnvironment(ctx, "my env"))
	mustStart(c.DeleteEnvironment(ctx, "here"))
	mustStart(c.AddSourceConfig(ctx, engineapi.SourceConfigCreateParameters{Name: "data", Environment: "here", Repository: "r", Parameters: json.RawMessage(`{"path": "/srv"}`)}))
	mustStart(c.LinkDSource(ctx, engineapi.LinkParameters{Name: "ds", SourceConfig: "data", Parameters: json.RawMessage(`{}`)}))
	mustStart(c.Sync(ctx, "ds", engineapi.ContainerOpParameters{Resync: true}))
	mustStart(c.ContainerOp(ctx, "vdb", "rollback", engineapi.ContainerOpParameters{Snapshot: "APPDATA_SNAPSHOT-1"}))
	mustStart(c.Provision(ctx, engineapi.ProvisionParameters{Name: "vdb", Snapshot: "S", Environment: "here", Parameters: json.RawMessage(`{}`)}))
	want := []string{
		`POST delphix/environment {"type":"EnvironmentCreateParameters","name":"here","hostType":"local"}`,
		`POST delphix/environment/my%20env/refresh {}`,
		`POST delphix/environment/here/delete {}`,
		`POST delphix/sourceconfig {"type":"SourceConfigCreateParameters","name":"data","environment":"here","repository":"r","parameters":{"path":"/srv"}}`,
		`POST delphix/database/link {"type":"LinkParameters","name":"ds","sourceConfig":"data","stagingEnvironment":"","parameters":{}}`,
		`POST delphix/database/ds/sync {"type":"SyncParameters","resync":true}`,
		`POST delphix/database/vdb/rollback {"snapshot":"APPDATA_SNAPSHOT-1"}`,
		`POST delphix/database/provision {"type":"ProvisionParameters","name":"vdb","snapshot":"S","environment":"here","repository":"","parameters":{}}`,
	}
	if got := strings.Join(f.got, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}

	envs, err := c.ListEnvironments(ctx)
	if err != nil || len(envs) != 1 || envs[0].HostType != "local" || envs[0].Host != "h" {
		t.Errorf("environments %+v %v", envs, err)
	}
	scs, err := c.ListSourceConfigs(ctx)
	if err != nil || len(scs) != 1 || string(scs[0].Parameters) != `{"path": "/srv"}` {
		t.Errorf("source configs %+v %v", scs, err)
	}
	cs, err := c.ListContainers(ctx)
	if err != nil || len(cs) != 1 || !cs[0].Enabled || cs[0].Mounts[0].MountPath != "/m" {
		t.Errorf("containers %+v %v", cs, err)
	}
	snaps, err := c.ListSnapshots(ctx, "ds/1")
	if err != nil || len(snaps) != 1 || !snaps[0].Resync {
		t.Errorf("snapshots %+v %v", snaps, err)
	}
	// An ErrorResult is dvp's HttpError message.
	_, err = c.ListSnapshots(ctx, "nope")
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindHTTP || e.Msg != "API request failed with HTTP Status 404\nDetails: The thing does not exist.\nAction: Look elsewhere." {
		t.Errorf("missing: %v", err)
	}
	// A result that is not the type asked for is quoted whole.
	f.answers["GET delphix/environment"] = ok(`"not a list"`, "", "")
	if _, err := c.ListEnvironments(ctx); err == nil || !strings.HasPrefix(err.Error(), "Received an unexpected error with HTTP Status 200,\nDumping full response:\n{") {
		t.Errorf("bad list: %v", err)
	}
}

// AwaitJob follows a job, hands each event over once, asks only for the
// events it has not seen (eventsSince), and words a job that did not
// complete with its last event.
func TestAwaitJob(t *testing.T) {
	var mu sync.Mutex
	polls := 0
	var queries []string
	events := []string{`{"type": "JobEvent", "timestamp": "t1", "state": null, "messageDetails": "Syncing."}`,
		`{"type": "JobEvent", "timestamp": "t2", "state": "FAILED", "messageDetails": "The plugin failed: no data.", "messageAction": "Check the source."}`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		polls++
		queries = append(queries, r.URL.RawQuery)
		since, _ := strconv.Atoi(r.URL.Query().Get(engineapi.QueryEventsSince))
		switch {
		case r.URL.Path != engineapi.APIPrefix+"delphix/job/JOB-4":
			w.WriteHeader(404)
		case polls == 1:
			io.WriteString(w, ok(`{"type": "Job", "reference": "JOB-4", "jobState": "RUNNING", "events": [`+strings.Join(events[since:1], ",")+`]}`, "", ""))
		default:
			io.WriteString(w, ok(`{"type": "Job", "reference": "JOB-4", "title": "Sync", "jobState": "FAILED", "events": [`+strings.Join(events[since:], ",")+`]}`, "", ""))
		}
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	var seen []string
	j, err := c.AwaitJob(context.Background(), "JOB-4", time.Minute, func(ev engineapi.JobEvent) { seen = append(seen, ev.MessageDetails) })
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindJobFailed || e.Msg != "The plugin failed: no data.\nAction: Check the source." {
		t.Errorf("failure: %v", err)
	}
	if j == nil || j.JobState != engineapi.JobFailed || strings.Join(seen, "|") != "Syncing.|The plugin failed: no data." || len(j.Events) != 2 {
		t.Errorf("job %+v, events %q", j, seen)
	}
	if strings.Join(queries, "|") != "|eventsSince=1" {
		t.Errorf("the polls asked %q, want the second to skip the event seen", queries)
	}
	if got := JobFailure(&engineapi.Job{Reference: "JOB-9", Title: "Add environment", JobState: "CANCELLED"}).Msg; got != "The job JOB-9 (Add environment) cancelled." {
		t.Errorf("no events: %q", got)
	}
}
