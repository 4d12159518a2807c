package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
)

// fakeEngine answers "METHOD path?query", else "METHOD path", from a table, like an engine that has
// run the requests already; the paging parameters of lists are left out of the query (the lists
// are short: one page).
func fakeEngine(t *testing.T, answers map[string]string) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		key := r.Method + " " + strings.TrimPrefix(r.URL.EscapedPath(), engineapi.APIPrefix)
		ans, ok := answers[key+"?"+engineclient.WithoutPaging(r.URL.RawQuery)] // a list of one object's children
		if !ok {
			ans, ok = answers[key]
		}
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": "Not here.", "action": "Look elsewhere.", "id": "x"}}`)
			return
		}
		io.WriteString(w, ans)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// runWithEngine runs dvp with the App's engine client talking to srv,
// whatever -e says: commands get their client from the App.
func runWithEngine(t *testing.T, srv *httptest.Server, args ...string) (code int, out, errOut string) {
	t.Helper()
	return runWithEngineApp(t, srv, nil, args...)
}

// runWithEngineApp is runWithEngine with the App changed by setup first
// (nil: as it is).
func runWithEngineApp(t *testing.T, srv *httptest.Server, setup func(*App), args ...string) (code int, out, errOut string) {
	t.Helper()
	app, errb := testApp(t, "", false)
	if setup != nil {
		setup(app)
	}
	app.IO.Getwd = func() (string, error) { return app.IO.Home, nil }
	var asked []string
	app.NewEngineClient = func(o engineclient.Options) (*engineclient.Client, error) {
		asked = append(asked, o.Engine)
		o.Engine = srv.URL
		return engineclient.New(o)
	}
	args = append(args, "-e", "http://192.0.2.1:1", "-u", "admin", "--password", "pw")
	code = app.Run(context.Background(), args)
	if len(asked) != 1 || asked[0] != "http://192.0.2.1:1" {
		t.Errorf("the App's client factory was asked for %v", asked)
	}
	return code, app.IO.Out.(*bytes.Buffer).String(), errb.String()
}

const (
	fakeSession = `{"type": "OKResult", "status": "OK", "result": {"type": "APISession"}, "job": null, "action": null}`
	fakeLogin   = `{"type": "OKResult", "status": "OK", "result": "USER-1", "job": null, "action": null}`
)

func TestObjectCommandsPrintTypedAnswers(t *testing.T) {
	srv := fakeEngine(t, map[string]string{
		"POST delphix/session": fakeSession,
		"POST delphix/login":   fakeLogin,
		"GET delphix/sourceconfig": `{"type": "ListResult", "status": "OK", "result": [
			{"type": "AppDataSourceConfig", "reference": "APPDATA_SOURCE_CONFIG-1", "name": "data", "repository": "APPDATA_REPOSITORY-1", "parameters": {"path": "/srv/<data>", "name": "data", "size": 1e21}}],
			"job": null, "action": null, "total": 1, "overflow": false}`,
		"GET delphix/database": `{"type": "ListResult", "status": "OK", "result": [
			{"reference": "APPDATA_CONTAINER-1", "name": "ds", "containerType": "DSOURCE", "runtimeStatus": "ACTIVE", "enabled": true}]}`,
		"POST delphix/database/ds/sync": `{"type": "OKResult", "status": "OK", "result": "APPDATA_CONTAINER-1", "job": "JOB-3", "action": "ACTION-3"}`,
		"GET delphix/snapshot?database=APPDATA_CONTAINER-1": `{"type": "ListResult", "status": "OK", "result": [
			{"type": "AppDataSnapshot", "reference": "APPDATA_SNAPSHOT-1", "container": "APPDATA_CONTAINER-1", "job": "JOB-1"},
			{"type": "AppDataSnapshot", "reference": "APPDATA_SNAPSHOT-2", "container": "APPDATA_CONTAINER-1", "job": "JOB-3", "resync": true},
			{"type": "AppDataSnapshot", "reference": "APPDATA_SNAPSHOT-3", "container": "APPDATA_CONTAINER-1", "job": "JOB-5"}]}`,
		"GET delphix/job/JOB-3": `{"type": "OKResult", "status": "OK", "result": {"type": "Job", "reference": "JOB-3", "jobState": "COMPLETED", "events": [
			{"timestamp": "t1", "state": "RUNNING", "messageDetails": "Started."},
			{"timestamp": "t2", "state": null, "messageDetails": "Syncing."},
			{"timestamp": "t3", "state": "COMPLETED", "messageDetails": "Sync: done."}]}}`,
		"POST delphix/database/vdb/start": `{"type": "OKResult", "status": "OK", "result": "", "job": "JOB-4", "action": "ACTION-4"}`,
		"GET delphix/job/JOB-4": `{"type": "OKResult", "status": "OK", "result": {"type": "Job", "reference": "JOB-4", "jobState": "FAILED", "events": [
			{"timestamp": "t1", "state": "FAILED", "messageCode": "exception.plugin", "messageDetails": "The plugin failed.", "messageAction": "Fix it."}]}}`,
	})
	code, out, _ := runWithEngine(t, srv, "source-config", "list")
	if want := "APPDATA_SOURCE_CONFIG-1\tdata\tAPPDATA_REPOSITORY-1\t" + `{"name":"data","path":"/srv/\u003cdata\u003e","size":1e+21}` + "\n"; code != 0 || out != want {
		t.Errorf("source-config list: exit %d\n%q\nwant %q", code, out, want)
	}
	code, out, _ = runWithEngine(t, srv, "dsource", "list", "-o", "json")
	if !strings.Contains(out, `"containerType": "DSOURCE",`) || !strings.Contains(out, `"enabled": true,`) || strings.Index(out, `"containerType"`) > strings.Index(out, `"reference"`) {
		t.Errorf("dsource list -o json: exit %d\n%s", code, out)
	}
	code, out, errOut := runWithEngine(t, srv, "dsource", "sync", "ds")
	if code != 0 || out != "APPDATA_SNAPSHOT-2\n" || !strings.HasSuffix(errOut, "t2 Syncing.\nt3 Sync: done.\n") {
		t.Errorf("dsource sync: exit %d\nout %q\nerr %q", code, out, errOut)
	}
	code, out, errOut = runWithEngine(t, srv, "vdb", "start", "vdb", "-o", "json")
	if code != ExitUser || !strings.Contains(errOut, "The plugin failed.\nAction: Fix it.") || !strings.Contains(out, `"state": "FAILED"`) || !strings.Contains(out, `"messageCode": "exception.plugin"`) {
		t.Errorf("vdb start: exit %d\nout %s\nerr %s", code, out, errOut)
	}
	code, _, errOut = runWithEngine(t, srv, "snapshot", "list", "nope")
	if code != ExitUser || !strings.Contains(errOut, "API request failed with HTTP Status 404\nDetails: Not here.\nAction: Look elsewhere.") {
		t.Errorf("snapshot list: exit %d\n%s", code, errOut)
	}
}

// A command's result is what a script wants next: sync and snapshot print
// the snapshot their job took, status the status; lists have a header on a
// terminal only, and say so on stderr when they are empty.
func TestResultsOnStdout(t *testing.T) {
	job := func(ref string) string {
		return `{"type": "OKResult", "status": "OK", "result": {"type": "Job", "reference": "` + ref + `", "jobState": "COMPLETED", "events": [
			{"timestamp": "t1", "state": "COMPLETED", "messageDetails": "done."}]}}`
	}
	srv := fakeEngine(t, map[string]string{
		"POST delphix/session":               fakeSession,
		"POST delphix/login":                 fakeLogin,
		"POST delphix/database/vdb/snapshot": `{"type": "OKResult", "status": "OK", "result": "APPDATA_CONTAINER-2", "job": "JOB-7", "action": "ACTION-7"}`,
		"GET delphix/job/JOB-7":              job("JOB-7"),
		"POST delphix/database/old/snapshot": `{"type": "OKResult", "status": "OK", "result": "APPDATA_CONTAINER-3", "job": "JOB-8", "action": "ACTION-8"}`,
		"GET delphix/job/JOB-8":              job("JOB-8"),
		"GET delphix/snapshot?database=APPDATA_CONTAINER-3": `{"type": "ListResult", "status": "OK", "result": [
			{"type": "AppDataSnapshot", "reference": "APPDATA_SNAPSHOT-8", "container": "APPDATA_CONTAINER-3", "job": "JOB-6"}]}`,
		"GET delphix/snapshot?database=APPDATA_CONTAINER-2": `{"type": "ListResult", "status": "OK", "result": [
			{"type": "AppDataSnapshot", "reference": "APPDATA_SNAPSHOT-6", "container": "APPDATA_CONTAINER-2", "job": "JOB-6"},
			{"type": "AppDataSnapshot", "reference": "APPDATA_SNAPSHOT-7", "container": "APPDATA_CONTAINER-2", "job": "JOB-7", "timestamp": "2026-12-06T10:00:00.000Z"}]}`,
		"POST delphix/database/vdb/status":         `{"type": "OKResult", "status": "OK", "result": "APPDATA_CONTAINER-2", "job": "JOB-9", "action": "ACTION-9"}`,
		"GET delphix/job/JOB-9":                    job("JOB-9"),
		"GET delphix/database/APPDATA_CONTAINER-2": `{"type": "OKResult", "status": "OK", "result": {"type": "AppDataContainer", "reference": "APPDATA_CONTAINER-2", "name": "vdb", "runtimeStatus": "INACTIVE", "size": 4096}}`,
		"GET delphix/database": `{"type": "ListResult", "status": "OK", "result": [
			{"reference": "APPDATA_CONTAINER-1", "name": "ds", "containerType": "DSOURCE", "runtimeStatus": "ACTIVE", "enabled": true},
			{"reference": "APPDATA_CONTAINER-2", "name": "a-longer-name", "containerType": "VDB", "runtimeStatus": "INACTIVE", "enabled": false, "size": 1048576}]}`,
		"GET delphix/environment":  `{"type": "ListResult", "status": "OK", "result": []}`,
		"GET delphix/sourceconfig": `{"type": "ListResult", "status": "OK", "result": []}`,
	})
	code, out, _ := runWithEngine(t, srv, "vdb", "snapshot", "vdb")
	if code != 0 || out != "APPDATA_SNAPSHOT-7\n" {
		t.Errorf("vdb snapshot: exit %d, out %q", code, out)
	}
	code, out, _ = runWithEngine(t, srv, "vdb", "snapshot", "vdb", "-o", "json")
	if code != 0 || !strings.Contains(out, `"result": "APPDATA_CONTAINER-2"`) || !strings.Contains(out, `"reference": "APPDATA_SNAPSHOT-7"`) ||
		!strings.Contains(out, `"timestamp": "2026-12-06T10:00:00.000Z"`) || strings.Contains(out, "APPDATA_SNAPSHOT-6") {
		t.Errorf("vdb snapshot -o json: exit %d\n%s", code, out)
	}
	// A job that completed without a snapshot naming it is an error, not
	// a guess.
	code, out, errOut := runWithEngine(t, srv, "vdb", "snapshot", "old")
	if code != ExitUser || out != "" || !strings.Contains(errOut, "The job JOB-8 completed, but no snapshot of old names it") {
		t.Errorf("vdb snapshot without its snapshot: exit %d, out %q\n%s", code, out, errOut)
	}
	code, out, errOut = runWithEngine(t, srv, "vdb", "status", "vdb")
	if code != 0 || out != "INACTIVE\n" || !strings.Contains(errOut, "t1 done.") {
		t.Errorf("vdb status: exit %d, out %q\n%s", code, out, errOut)
	}
	code, out, _ = runWithEngine(t, srv, "vdb", "status", "vdb", "-o", "json")
	if code != 0 || !strings.Contains(out, `"status": "INACTIVE"`) || !strings.Contains(out, `"size": 4096`) || !strings.Contains(out, `"job": "JOB-9"`) {
		t.Errorf("vdb status -o json: exit %d\n%s", code, out)
	}

	// Lists: tab-separated without a header off a terminal; aligned under
	// a header on one.
	code, out, _ = runWithEngine(t, srv, "dsource", "list")
	if want := "APPDATA_CONTAINER-1\tds\tDSOURCE\tACTIVE\ttrue\t-\nAPPDATA_CONTAINER-2\ta-longer-name\tVDB\tINACTIVE\tfalse\t1048576\n"; code != 0 || out != want {
		t.Errorf("dsource list: exit %d\n%q\nwant %q", code, out, want)
	}
	terminal := func(a *App) { a.IO.StdoutIsTerminal = true }
	code, out, _ = runWithEngineApp(t, srv, terminal, "dsource", "list")
	want := "REFERENCE            NAME           TYPE     STATUS    ENABLED  SIZE\n" +
		"APPDATA_CONTAINER-1  ds             DSOURCE  ACTIVE    true     -\n" +
		"APPDATA_CONTAINER-2  a-longer-name  VDB      INACTIVE  false    1048576\n"
	if code != 0 || out != want {
		t.Errorf("dsource list on a terminal: exit %d\n%s\nwant\n%s", code, out, want)
	}
	for _, c := range []struct{ args, empty string }{
		{"environment list", "No environments: add one with dvp environment add.\n"},
		{"source-config list", "No source configs.\n"},
	} {
		code, out, errOut = runWithEngineApp(t, srv, terminal, strings.Fields(c.args)...)
		if code != 0 || out != "" || !strings.HasSuffix(errOut, c.empty) {
			t.Errorf("%s (empty): exit %d, out %q, err %q", c.args, code, out, errOut)
		}
		code, out, _ = runWithEngine(t, srv, append(strings.Fields(c.args), "-o", "json")...)
		if code != 0 || out != "[]\n" {
			t.Errorf("%s -o json (empty): exit %d, out %q", c.args, code, out)
		}
	}
}
