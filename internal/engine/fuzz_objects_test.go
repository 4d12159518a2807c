package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/testio"
)

// objectRoutesFuzzed are the data-object routes FuzzEngineObjects drives;
// {ref} is replaced by the fuzzed reference.
var objectRoutesFuzzed = []struct{ method, path string }{
	{"POST", "delphix/environment"},
	{"GET", "delphix/environment/{ref}"},
	{"POST", "delphix/environment/{ref}/refresh"},
	{"POST", "delphix/environment/{ref}/delete"},
	{"GET", "delphix/repository?environment={ref}"},
	{"GET", "delphix/repository/{ref}"},
	{"POST", "delphix/sourceconfig"},
	{"GET", "delphix/sourceconfig?repository={ref}"},
	{"GET", "delphix/sourceconfig/{ref}"},
	{"POST", "delphix/sourceconfig/{ref}/delete"},
	{"GET", "delphix/database"},
	{"GET", "delphix/database/{ref}"},
	{"POST", "delphix/database/link"},
	{"POST", "delphix/database/provision"},
	{"POST", "delphix/database/{ref}/sync"},
	{"POST", "delphix/database/{ref}/refresh"},
	{"POST", "delphix/database/{ref}/rollback"},
	{"POST", "delphix/database/{ref}/snapshot"},
	{"POST", "delphix/database/{ref}/start"},
	{"POST", "delphix/database/{ref}/stop"},
	{"POST", "delphix/database/{ref}/enable"},
	{"POST", "delphix/database/{ref}/disable"},
	{"POST", "delphix/database/{ref}/status"},
	{"POST", "delphix/database/{ref}/delete"},
	{"GET", "delphix/snapshot?database={ref}"},
	{"GET", "delphix/snapshot/{ref}"},
	{"GET", "delphix/job/{ref}"},
}

// confinePaths rewrites every absolute path in a JSON body to lie under
// root, so that fuzzed mount locations, source paths and key files never
// touch the rest of the machine (the engine acts on a local environment,
// as the user running the test). A body that is not JSON is sent as is:
// the engine refuses it before using any value.
func confinePaths(body []byte, root string) []byte {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return body
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			if strings.Contains(x, "/") || strings.Contains(x, "\\") {
				return filepath.Join(root, strings.ReplaceAll(x, "..", "_"))
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		}
		return v
	}
	out, err := json.Marshal(walk(v))
	if err != nil {
		return body
	}
	return out
}

// FuzzEngineObjects sends fuzzed JSON bodies and references to every
// environment, repository, source config, dSource/VDB, snapshot and job
// route of an engine that holds one of each (the staged test plugin on a
// local environment, a linked dSource, a VDB). Paths in the bodies are
// confined to a temporary directory (confinePaths). Every answer is an
// envelope, never a 5xx; the jobs a request starts are waited for and none
// may panic; the session survives.
//
//	go test -run '^$' -fuzz '^FuzzEngineObjects$' -fuzztime 5m -parallel 1 ./internal/engine/
func FuzzEngineObjects(f *testing.F) {
	var logs testio.Buffer
	te := startEngine(f, "", func(c *Config) {
		c.Clock = nil
		c.Log = slog.New(slog.NewTextHandler(&logs, nil))
	})
	c := te.client(f)
	c.login(testPassword)
	if env := c.upload(stagedArtifact(f, enginetest.DefaultID, "staged", testPlugin(f, "staged"))); env.Type != "OKResult" {
		f.Fatalf("upload: %+v", env)
	}
	root := f.TempDir()
	c.mustComplete("environment", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	repo := c.list("delphix/repository")[0]["reference"].(string)
	sc := resultString(f, c.call("POST", "delphix/sourceconfig", map[string]any{"repository": repo, "parameters": map[string]any{"path": root}}))
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": sc,
		"parameters": map[string]any{"mountLocation": filepath.Join(root, "mnt", "ds")}}))
	snap := c.list("delphix/snapshot")[0]["reference"].(string)
	c.mustComplete("provision", c.call("POST", "delphix/database/provision", map[string]any{"name": "vdb", "snapshot": snap, "environment": "here",
		"parameters": map[string]any{"mountLocation": filepath.Join(root, "mnt", "vdb")}}))

	seeds := []string{
		`{"name": "there", "hostType": "local"}`,
		`{"name": "ssh", "hostType": "ssh", "host": "127.0.0.1", "port": 70000, "user": "", "sshKeyFile": "/nope"}`,
		`{"name": "sc2", "environment": "here", "repository": "` + repo + `", "parameters": {"path": "/src"}}`,
		`{"repository": "` + repo + `", "parameters": {"path": 5}}`,
		`{"name": "ds2", "sourceConfig": "` + sc + `", "parameters": {"mountLocation": "/mnt/ds2"}, "snapshotParameters": {"resync": true}}`,
		`{"name": "ds3", "sourceConfig": "` + sc + `", "parameters": {"mount": []}}`,
		`{"name": "vdb2", "snapshot": "` + snap + `", "environment": "here", "parameters": {"mountLocation": "/mnt/vdb2"}}`,
		`{"type": "SyncParameters", "resync": true, "snapshotParameters": {"resync": false}}`,
		`{"snapshot": "` + snap + `"}`,
		`{"snapshotParameters": {"bogus": 1}}`,
		``, `null`, `[]`, `{"type": 1}`, `{`, "\xff", `{"parameters": "\u0000"}`,
	}
	refs := []string{"here", "ds", "vdb", repo, sc, snap, "UNIX_HOST_ENVIRONMENT-1", "APPDATA_CONTAINER-99999999999999999999", "JOB-1", "x"}
	for i, s := range seeds {
		f.Add(uint8(i*3), refs[i%len(refs)], []byte(s))
	}
	f.Fuzz(func(t *testing.T, route uint8, ref string, body []byte) {
		rt := objectRoutesFuzzed[int(route)%len(objectRoutesFuzzed)]
		// A request or job that never ends is a failure too: crash with
		// every goroutine's stack, so the fuzzer keeps the input.
		watchdog := time.AfterFunc(time.Minute, func() {
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("%s %s hung:\n%s", rt.method, rt.path, buf[:goruntime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		if ref == "" || ref == "." || ref == ".." || strings.ContainsAny(ref, "/?#%&=+") || strings.ContainsFunc(ref, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			ref = "x" // not a single path segment or query value: the mux's business
		}
		path := engineapi.APIPrefix + strings.ReplaceAll(rt.path, "{ref}", ref)
		req := httptest.NewRequest(rt.method, "http://127.0.0.1"+path, bytes.NewReader(confinePaths(body, root)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", c.cookie)
		w := httptest.NewRecorder()
		te.Handler().ServeHTTP(w, req)
		checkAnswer(t, rt.method+" "+path, w)
		te.core.Wait() // the jobs this request started have finished
		if strings.Contains(logs.String(), "panic") {
			t.Fatalf("a workflow panicked after %s %s:\n%s", rt.method, path, logs.String())
		}
		req = httptest.NewRequest("GET", "http://127.0.0.1"+engineapi.APIPrefix+"delphix/database", nil)
		req.Header.Set("Cookie", c.cookie)
		w = httptest.NewRecorder()
		te.Handler().ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("session lost after %s %s: %d %s", rt.method, path, w.Code, w.Body)
		}
	})
}
