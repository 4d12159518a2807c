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

// fakeEngine answers "METHOD path" from a table, like an engine that has
// run the requests already.
func fakeEngine(t *testing.T, answers map[string]string) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		ans, ok := answers[r.Method+" "+strings.TrimPrefix(r.URL.EscapedPath(), engineapi.APIPrefix)]
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
	app, errb := testApp(t, "", false)
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
		"POST delphix/database/ds/sync": `{"type": "OKResult", "status": "OK", "result": "APPDATA_SNAPSHOT-2", "job": "JOB-3", "action": "ACTION-3"}`,
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
