package engine

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/api"
	"github.com/dvpkit/dvp/internal/engine/core"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/filelock"
	"github.com/dvpkit/dvp/internal/pycompat/pyjson"
	"github.com/dvpkit/dvp/internal/zipfile"
)

const testPassword = "s3cret-pässword"

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type testEngine struct {
	*Engine
	srv   *httptest.Server
	clock *fakeClock
	dir   string
}

func startEngine(t testing.TB, dir string, mod ...func(*Config)) *testEngine {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	clock := &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	// Local environments keep their scratch path in the home directory.
	cfg := Config{DataDir: dir, Home: t.TempDir(), AdminPassword: testPassword, BcryptCost: bcrypt.MinCost, Clock: clock.now}
	for _, m := range mod {
		m(&cfg)
	}
	e, _, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	te := &testEngine{Engine: e, srv: srv, clock: clock, dir: dir}
	t.Cleanup(te.stop)
	return te
}

func (te *testEngine) stop() {
	te.srv.Close()
	te.Engine.Close()
}

// client is a minimal API client that behaves like dvp's: it replays the
// latest raw Set-Cookie value.
type client struct {
	t      testing.TB
	base   string
	cookie string
}

func (te *testEngine) client(t testing.TB) *client { return &client{t: t, base: te.srv.URL} }

type envelope struct {
	Type   string          `json:"type"`
	Status string          `json:"status"`
	Result json.RawMessage `json:"result"`
	Job    *string         `json:"job"`
	Action *string         `json:"action"`
	Total  int             `json:"total"`
	Error  struct {
		Type    string `json:"type"`
		Details string `json:"details"`
		Action  string `json:"action"`
		ID      string `json:"id"`
	} `json:"error"`
	code int
}

func (c *client) do(method, path, contentType string, body io.Reader) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+engineapi.APIPrefix+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if c.cookie != "" {
		req.Header.Set("Cookie", c.cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if sc := resp.Header.Get("Set-Cookie"); sc != "" {
		c.cookie = sc
	}
	return resp, b
}

func (c *client) call(method, path string, body any) envelope {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	resp, b := c.do(method, path, "application/json", r)
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		c.t.Fatalf("%s %s: not JSON (%d): %s", method, path, resp.StatusCode, b)
	}
	env.code = resp.StatusCode
	return env
}

func (c *client) login(password string) envelope {
	c.t.Helper()
	env := c.call("POST", "delphix/session", map[string]any{"type": "APISession", "version": map[string]any{"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}})
	if env.Type != "OKResult" {
		c.t.Fatalf("session: %+v", env)
	}
	return c.call("POST", "delphix/login", map[string]any{"type": "LoginRequest", "username": "admin", "password": password})
}

func (c *client) token() string {
	c.t.Helper()
	env := c.call("POST", "delphix/toolkit/requestUploadToken", nil)
	var res struct{ Token string }
	if env.Type != "OKResult" || json.Unmarshal(env.Result, &res) != nil || res.Token == "" {
		c.t.Fatalf("requestUploadToken: %+v", env)
	}
	return res.Token
}

// multipartBody is the exact body dvp's Python client builds (docs/upload.md, wire compatibility).
func multipartBody(token, filename string, artifactJSON []byte) []byte {
	var b bytes.Buffer
	b.WriteString("------------boundary------\r\n")
	b.WriteString("Content-Disposition: form-data; name=\"token\"\r\n\r\n")
	b.WriteString(token + "\r\n")
	b.WriteString("------------boundary------\r\n")
	b.WriteString("Content-Disposition:form-data; name=\"file\"; filename=\"" + filename + "\"\r\n")
	b.WriteString("Content-Type: application/octet-stream\r\n\r\n")
	b.Write(artifactJSON)
	b.WriteString("\r\n------------boundary--------\r\n")
	return b.Bytes()
}

const multipartType = "multipart/form-data; boundary=----------boundary------"

func (c *client) uploadWith(token string, doc []byte) envelope {
	c.t.Helper()
	resp, b := c.do("POST", "delphix/data/upload", multipartType, bytes.NewReader(multipartBody(token, "artifact.json", doc)))
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		c.t.Fatalf("upload: not JSON (%d): %s", resp.StatusCode, b)
	}
	env.code = resp.StatusCode
	return env
}

func (c *client) upload(doc []byte) envelope {
	c.t.Helper()
	return c.uploadWith(c.token(), doc)
}

func (c *client) toolkits() []map[string]any {
	c.t.Helper()
	env := c.call("GET", "delphix/toolkit", nil)
	var list []map[string]any
	if env.Type != "ListResult" || json.Unmarshal(env.Result, &list) != nil {
		c.t.Fatalf("toolkit list: %+v", env)
	}
	return list
}

func (c *client) waitJob(action string) (state string, events []map[string]any) {
	c.t.Helper()
	for i := 0; i < 200; i++ {
		env := c.call("GET", "delphix/action/"+action+"/getJob", nil)
		var job struct {
			JobState string           `json:"jobState"`
			Events   []map[string]any `json:"events"`
		}
		if err := json.Unmarshal(env.Result, &job); err != nil {
			c.t.Fatalf("getJob: %+v", env)
		}
		if job.JobState != "RUNNING" {
			return job.JobState, job.Events
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("job never finished")
	return "", nil
}

func TestEveryRouteButSessionAndLoginNeedsLogin(t *testing.T) {
	te := startEngine(t, "")
	anon := te.client(t)
	// A session that is started but not logged in is not enough either.
	half := te.client(t)
	half.call("POST", "delphix/session", map[string]any{"type": "APISession", "version": map[string]any{"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}})
	if half.cookie == "" {
		t.Fatal("no session cookie")
	}
	for _, rt := range api.Routes() {
		path := strings.ReplaceAll(rt.Pattern, "{ref}", "APPDATA_TOOLKIT-1")
		for _, c := range []*client{anon, half} {
			resp, b := c.do(rt.Method, path, "application/json", strings.NewReader("{}"))
			var env envelope
			json.Unmarshal(b, &env)
			if rt.Public {
				if resp.StatusCode == http.StatusUnauthorized && env.Error.ID == "exception.webservices.session.not.logged.in" {
					t.Errorf("%s %s refused without a session", rt.Method, path)
				}
				continue
			}
			if resp.StatusCode != http.StatusUnauthorized || env.Type != "ErrorResult" || env.Error.ID != "exception.webservices.session.not.logged.in" {
				t.Errorf("%s %s without login: %d %s", rt.Method, path, resp.StatusCode, b)
			}
		}
	}
	// Wrong method, unknown path: ErrorResult envelopes.
	if env := anon.call("GET", "delphix/session", nil); env.code != 405 || env.Type != "ErrorResult" {
		t.Errorf("GET session: %+v", env)
	}
	if env := anon.call("GET", "delphix/nothing", nil); env.code != 404 || env.Type != "ErrorResult" {
		t.Errorf("unknown path: %+v", env)
	}
}

func TestSessionVersionNegotiation(t *testing.T) {
	te := startEngine(t, "")
	c := te.client(t)
	for _, v := range []map[string]any{
		{"type": "APIVersion", "major": 1, "minor": 0, "micro": 0},
		{"type": "APIVersion", "major": 1, "minor": 10, "micro": 99},
		{"type": "APIVersion", "major": 1, "minor": 11, "micro": 16},
	} {
		env := c.call("POST", "delphix/session", map[string]any{"type": "APISession", "version": v})
		if env.Type != "OKResult" || !strings.Contains(string(env.Result), `"type":"APISession"`) {
			t.Errorf("version %v refused: %+v", v, env)
		}
	}
	for v, shown := range map[string]string{
		`{"type":"APIVersion","major":2,"minor":11,"micro":0}`:  "2.11.0",
		`{"type":"APIVersion","major":1,"minor":11,"micro":17}`: "1.11.17",
		`{"type":"APIVersion","major":1,"minor":12,"micro":0}`:  "1.12.0",
		`{"type":"APIVersion","major":1,"minor":"x","micro":0}`: `1."x".0`,
	} {
		_, b := c.do("POST", "delphix/session", "application/json", strings.NewReader(`{"type":"APISession","version":`+v+`}`))
		var env envelope
		json.Unmarshal(b, &env)
		if env.Type != "ErrorResult" || env.Error.Details != fmt.Sprintf("Invalid API version %q.", shown) ||
			!strings.HasPrefix(env.Error.Action, "Change the API version to one supported by your version of the Delphix Engine.") {
			t.Errorf("version %s: %s", v, b)
		}
	}
}

func TestLoginAndLogout(t *testing.T) {
	te := startEngine(t, "")
	c := te.client(t)
	env := c.login("wrong")
	if env.code != 401 || env.Error.Details != "Invalid username or password." || env.Error.Action != "Try with a different set of credentials." || env.Error.ID != "exception.webservices.login.failed" {
		t.Fatalf("wrong password: %+v", env)
	}
	preLogin := c.cookie
	if env := c.login(testPassword); env.Type != "OKResult" || string(env.Result) != `"USER-1"` {
		t.Fatalf("login: %+v", env)
	}
	if c.cookie == preLogin || !strings.Contains(c.cookie, "Path=/resources") || !strings.Contains(c.cookie, "HttpOnly") || !strings.HasPrefix(c.cookie, "JSESSIONID=") {
		t.Errorf("cookie after login: %q (before: %q)", c.cookie, preLogin)
	}
	// The pre-login session id is worthless now.
	stale := &client{t: t, base: c.base, cookie: preLogin}
	if env := stale.call("GET", "delphix/toolkit", nil); env.code != 401 {
		t.Errorf("pre-login session still works: %+v", env)
	}
	if env := c.call("GET", "delphix/toolkit", nil); env.Type != "ListResult" || env.Total != 0 {
		t.Errorf("toolkits: %+v", env)
	}
	if env := c.call("POST", "delphix/logout", nil); env.Type != "OKResult" {
		t.Errorf("logout: %+v", env)
	}
	if env := c.call("GET", "delphix/toolkit", nil); env.code != 401 {
		t.Errorf("still logged in after logout: %+v", env)
	}
}

func TestSessionsExpireWhenIdle(t *testing.T) {
	te := startEngine(t, "", func(c *Config) { c.SessionTimeout = 10 * time.Minute })
	c := te.client(t)
	c.login(testPassword)
	te.clock.advance(9 * time.Minute)
	if env := c.call("GET", "delphix/toolkit", nil); env.Type != "ListResult" {
		t.Fatalf("session expired too early: %+v", env)
	}
	te.clock.advance(9 * time.Minute) // idle time counts from the last use
	if env := c.call("GET", "delphix/toolkit", nil); env.Type != "ListResult" {
		t.Fatalf("use did not extend the session: %+v", env)
	}
	te.clock.advance(11 * time.Minute)
	if env := c.call("GET", "delphix/toolkit", nil); env.code != 401 {
		t.Errorf("idle session still alive: %+v", env)
	}
}

func TestUploadTokensAreSingleUseAndExpire(t *testing.T) {
	te := startEngine(t, "", func(c *Config) { c.UploadTokenTTL = time.Minute })
	c := te.client(t)
	c.login(testPassword)
	doc := enginetest.Bytes(enginetest.Options{})
	tok := c.token()
	if env := c.uploadWith(tok, doc); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	env := c.uploadWith(tok, doc)
	if env.code != 403 || !strings.Contains(env.Error.Details, "was already used") {
		t.Errorf("reused token: %+v", env)
	}
	tok = c.token()
	te.clock.advance(2 * time.Minute)
	if env := c.uploadWith(tok, doc); env.code != 403 || !strings.Contains(env.Error.Details, "has expired") {
		t.Errorf("expired token: %+v", env)
	}
	if env := c.uploadWith("0f9e3c4a-0000-4000-8000-000000000000", doc); env.code != 403 || !strings.Contains(env.Error.Details, "was not issued") {
		t.Errorf("unknown token: %+v", env)
	}
	// A token is bound to the session that asked for it.
	other := te.client(t)
	other.login(testPassword)
	tok = c.token()
	if env := other.uploadWith(tok, doc); env.code != 403 || !strings.Contains(env.Error.Details, "another session") {
		t.Errorf("token of another session: %+v", env)
	}
	// A token spent on a refused upload stays spent.
	tok = c.token()
	if env := c.uploadWith(tok, []byte("not json")); env.code != 400 {
		t.Errorf("garbage accepted: %+v", env)
	}
	if env := c.uploadWith(tok, doc); env.code != 403 {
		t.Errorf("token reusable after a refused upload: %+v", env)
	}
}

func TestUploadInstallUpgradeAndRefusals(t *testing.T) {
	te := startEngine(t, "")
	c := te.client(t)
	c.login(testPassword)
	id := enginetest.DefaultID
	env := c.upload(enginetest.Bytes(enginetest.Options{BuildNumber: "1.0", MigrationIDs: []string{"1"}}))
	if env.Type != "OKResult" || env.Job != nil || env.Action == nil || string(env.Result) != `""` {
		t.Fatalf("first upload: %+v", env)
	}
	act := c.call("GET", "delphix/action/"+*env.Action, nil)
	var a struct{ State, Type, Reference string }
	json.Unmarshal(act.Result, &a)
	if a.State != "COMPLETED" || a.Type != "Action" || a.Reference != *env.Action {
		t.Errorf("action: %s", act.Result)
	}
	list := c.toolkits()
	if len(list) != 1 || list[0]["identifier"] != id || list[0]["reference"] != "APPDATA_TOOLKIT-1" || list[0]["namespace"] != nil ||
		list[0]["type"] != "Toolkit" || list[0]["buildNumber"] != "1.0" || list[0]["language"] != "GO" || list[0]["sourceCode"] != nil {
		t.Fatalf("toolkits: %v", list)
	}

	// Upgrade with a higher build: a job with events.
	env = c.upload(enginetest.Bytes(enginetest.Options{BuildNumber: "1.1", MigrationIDs: []string{"1", "2"}}))
	if env.Type != "OKResult" || env.Job == nil || env.Action == nil {
		t.Fatalf("upgrade: %+v", env)
	}
	state, events := c.waitJob(*env.Action)
	if state != "COMPLETED" || len(events) < 3 {
		t.Fatalf("upgrade job %s: %v", state, events)
	}
	codes := []string{}
	for _, ev := range events {
		codes = append(codes, ev["messageCode"].(string))
		if ev["timestamp"] == "" || ev["messageDetails"] == "" {
			t.Errorf("event %v", ev)
		}
	}
	if codes[0] != "event.toolkit.upgrade.started" || codes[len(codes)-1] != "event.toolkit.upgrade.completed" {
		t.Errorf("event codes %v", codes)
	}
	if list := c.toolkits(); list[0]["buildNumber"] != "1.1" || list[0]["reference"] != "APPDATA_TOOLKIT-1" {
		t.Errorf("after upgrade: %v", list[0])
	}
	// The same build again is allowed (development).
	env = c.upload(enginetest.Bytes(enginetest.Options{BuildNumber: "1.1.0", MigrationIDs: []string{"1", "2"}}))
	if state, _ := c.waitJob(*env.Action); state != "COMPLETED" {
		t.Errorf("equal build refused: %s", state)
	}

	// A downgrade is refused with an ErrorResult naming both builds.
	env = c.upload(enginetest.Bytes(enginetest.Options{BuildNumber: "1.0.9", MigrationIDs: []string{"1", "2"}}))
	if env.Type != "ErrorResult" || env.code != 400 || env.Error.ID != "exception.toolkit.upgrade.refused" ||
		!strings.Contains(env.Error.Details, "build 1.0.9 is older than the installed build 1.1.0") || env.Error.Action == "" {
		t.Errorf("downgrade: %+v", env)
	}
	// Dropping a released migration is refused.
	env = c.upload(enginetest.Bytes(enginetest.Options{BuildNumber: "2", MigrationIDs: []string{"2"}}))
	if env.Type != "ErrorResult" || !strings.Contains(env.Error.Details, `migration id "1"`) {
		t.Errorf("dropped migration: %+v", env)
	}
	// A corrupt artifact is refused with every problem listed.
	bad := enginetest.Bytes(enginetest.Options{BuildNumber: "3", Mutate: func(a *artifact.Artifact) {
		a.Manifest.HasLinkedWorker = true
		a.SourceCode = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==" // an empty ZIP
	}})
	env = c.upload(bad)
	if env.Type != "ErrorResult" || env.Error.ID != "exception.toolkit.invalid.artifact" || !strings.Contains(env.Error.Details, "hasLinkedWorker") {
		t.Errorf("corrupt artifact: %+v", env)
	}
	env = c.upload(enginetest.Bytes(enginetest.Options{BuildNumber: "3", Mutate: func(a *artifact.Artifact) { a.SourceCode = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==" }}))
	if env.Type != "ErrorResult" || !strings.Contains(env.Error.Details, `no plugin binary "plugin"`) {
		t.Errorf("empty zip: %+v", env)
	}
	if list := c.toolkits(); list[0]["buildNumber"] != "1.1.0" {
		t.Errorf("a refused upload changed the plugin: %v", list[0])
	}

	// The plugin's log bundle has its upload history.
	files := c.bundle("APPDATA_TOOLKIT-1")
	hist := files[core.BundlePluginLogDir+"/test-plugin/"+core.UploadLogFile]
	for _, want := range []string{"installed as APPDATA_TOOLKIT-1", "upgraded from build 1.0 to build 1.1", "build 1.0.9", "refused", "hasLinkedWorker"} {
		if !strings.Contains(hist, want) {
			t.Errorf("upload history lacks %q:\n%s", want, hist)
		}
	}

	// Delete.
	env = c.call("POST", "delphix/toolkit/APPDATA_TOOLKIT-1/delete", nil)
	if env.Type != "OKResult" || env.Action == nil {
		t.Fatalf("delete: %+v", env)
	}
	if list := c.toolkits(); len(list) != 0 {
		t.Errorf("deleted plugin still listed: %v", list)
	}
	if env := c.call("POST", "delphix/toolkit/APPDATA_TOOLKIT-1/delete", nil); env.code != 404 {
		t.Errorf("delete twice: %+v", env)
	}
	blobs := 0
	filepath.WalkDir(filepath.Join(te.dir, store.BlobsDir), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			blobs++
		}
		return nil
	})
	if blobs != 0 {
		t.Errorf("%d blobs left after delete", blobs)
	}
}

// bundle generates and downloads the plugin's log bundle and returns its
// files by name.
func (c *client) bundle(ref string) map[string]string {
	c.t.Helper()
	env := c.call("POST", "delphix/service/support/bundle/generate", map[string]any{"type": "SupportBundleGenerateParameters", "bundleType": "PLUGIN_LOG", "plugin": ref})
	var token string
	if env.Type != "DataResult" || json.Unmarshal(env.Result, &token) != nil {
		c.t.Fatalf("bundle generate: %+v", env)
	}
	resp, b := c.do("GET", "delphix/data/downloadOutputStream?token="+token, "application/octet-stream", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" {
		c.t.Fatalf("download: %d %s", resp.StatusCode, b)
	}
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		c.t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			c.t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		files[h.Name] = string(body)
	}
	// The download token is single-use.
	if resp, _ := c.do("GET", "delphix/data/downloadOutputStream?token="+token, "application/octet-stream", nil); resp.StatusCode != 403 {
		c.t.Errorf("download token reused: %d", resp.StatusCode)
	}
	return files
}

func TestBundleNamesCannotTraverse(t *testing.T) {
	te := startEngine(t, "")
	c := te.client(t)
	c.login(testPassword)
	env := c.upload(enginetest.Bytes(enginetest.Options{Name: "../../etc/x y"}))
	if env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	for name := range c.bundle("APPDATA_TOOLKIT-1") {
		if name != core.BundlePluginLogDir+"/_._.._etc_x_y/"+core.UploadLogFile {
			t.Errorf("bundle entry %q", name)
		}
	}
	if env := c.call("POST", "delphix/service/support/bundle/generate", map[string]any{"type": "SupportBundleGenerateParameters", "bundleType": "PLUGIN_LOG", "plugin": "../APPDATA_TOOLKIT-1"}); env.code != 404 {
		t.Errorf("bad ref: %+v", env)
	}
	if _, err := store.PluginLogDir(te.dir, "../x"); err == nil {
		t.Error("PluginLogDir accepted a traversing id")
	}
}

func TestUploadSizeLimit(t *testing.T) {
	te := startEngine(t, "", func(c *Config) { c.MaxUploadBytes = 4096 })
	c := te.client(t)
	c.login(testPassword)
	env := c.upload(enginetest.Bytes(enginetest.Options{Extra: []zipfile.File{{Name: "big", Data: bytes.Repeat([]byte{1, 2, 3}, 9000)}}}))
	if env.code != 413 || env.Error.ID != "exception.upload.too.large" {
		t.Errorf("too large: %+v", env)
	}
	// Without a Content-Length the limit applies while reading.
	tok := c.token()
	pr, pw := io.Pipe()
	go func() {
		pw.Write(multipartBody(tok, "artifact.json", bytes.Repeat([]byte("x"), 100000)))
		pw.Close()
	}()
	resp, b := c.do("POST", "delphix/data/upload", multipartType, pr)
	if resp.StatusCode != 413 {
		t.Errorf("chunked too large: %d %s", resp.StatusCode, b)
	}
}

func TestMalformedUploads(t *testing.T) {
	te := startEngine(t, "")
	c := te.client(t)
	c.login(testPassword)
	for name, body := range map[string]string{
		"not multipart": "hello",
		"file first":    "------------boundary------\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n{}\r\n------------boundary--------\r\n",
		"no file":       "------------boundary------\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n" + c.token() + "\r\n------------boundary--------\r\n",
	} {
		resp, b := c.do("POST", "delphix/data/upload", multipartType, strings.NewReader(body))
		if resp.StatusCode != 400 || !strings.Contains(string(b), "exception.upload.malformed") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
}

func TestRestartKeepsPluginsAndUsers(t *testing.T) {
	dir := t.TempDir()
	te := startEngine(t, dir)
	c := te.client(t)
	c.login(testPassword)
	c.upload(enginetest.Bytes(enginetest.Options{BuildNumber: "4"}))
	// A second engine cannot share the directory.
	if _, _, err := New(Config{DataDir: dir}); err == nil || !strings.Contains(err.Error(), "in use by another engine") {
		t.Errorf("second engine on the same directory: %v", err)
	}
	te.stop()

	// No password given: the stored one is kept, nothing is generated.
	e2, generated, err := New(Config{DataDir: dir, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	if generated != "" {
		t.Error("a password was generated although one is stored")
	}
	srv := httptest.NewServer(e2.Handler())
	defer func() { srv.Close(); e2.Close() }()
	c2 := &client{t: t, base: srv.URL}
	if env := c2.login(testPassword); env.Type != "OKResult" {
		t.Fatalf("login after restart: %+v", env)
	}
	list := c2.toolkits()
	if len(list) != 1 || list[0]["buildNumber"] != "4" {
		t.Fatalf("plugins after restart: %v", list)
	}
	// The stored blob is intact.
	st := e2.store
	row, err := st.ToolkitByPluginID(t.Context(), enginetest.DefaultID)
	if err != nil || row == nil {
		t.Fatal(err)
	}
	rc, _, err := st.OpenBlob(row.SourceSHA256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Errorf("blob: %v", err)
	}
	rc.Close()
}

func TestFirstStartGeneratesAPassword(t *testing.T) {
	dir := t.TempDir()
	e, generated, err := New(Config{DataDir: dir, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	if len(generated) != 20 {
		t.Fatalf("generated %q", generated)
	}
	srv := httptest.NewServer(e.Handler())
	c := &client{t: t, base: srv.URL}
	if env := c.login(generated); env.Type != "OKResult" {
		t.Errorf("generated password does not log in: %+v", env)
	}
	srv.Close()
	e.Close()
	// The database holds a hash, not the password.
	b, _ := os.ReadFile(filepath.Join(dir, store.DBFile))
	wal, _ := os.ReadFile(filepath.Join(dir, store.DBFile+"-wal"))
	if bytes.Contains(b, []byte(generated)) || bytes.Contains(wal, []byte(generated)) {
		t.Error("the password is stored in clear")
	}
}

func TestRecoveryRemovesPartialUploadsAndOrphans(t *testing.T) {
	dir := t.TempDir()
	te := startEngine(t, dir)
	c := te.client(t)
	c.login(testPassword)
	c.upload(enginetest.Bytes(enginetest.Options{}))
	te.stop()
	os.WriteFile(filepath.Join(dir, store.TmpDir, "upload-123"), []byte("half"), 0o600)
	orphan := filepath.Join(dir, store.BlobsDir, "sha256", "ab", strings.Repeat("ab", 32))
	os.MkdirAll(filepath.Dir(orphan), 0o700)
	os.WriteFile(orphan, []byte("orphan"), 0o600)
	te2 := startEngine(t, dir)
	if _, err := os.Stat(orphan); err == nil {
		t.Error("orphan blob kept")
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, store.TmpDir)); len(entries) != 0 {
		t.Errorf("spool not emptied: %v", entries)
	}
	c2 := te2.client(t)
	c2.login(testPassword)
	if len(c2.toolkits()) != 1 {
		t.Error("recovery lost the plugin")
	}
}

func TestConcurrentUploadsAllLand(t *testing.T) {
	te := startEngine(t, "")
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := te.client(t)
			c.login(testPassword)
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			env := c.upload(enginetest.Bytes(enginetest.Options{ID: id, Name: fmt.Sprintf("plugin-%02d", i)}))
			if env.Type != "OKResult" {
				errs <- fmt.Sprintf("%d: %+v", i, env)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	c := te.client(t)
	c.login(testPassword)
	list := c.toolkits()
	var names []string
	for _, tk := range list {
		names = append(names, tk["name"].(string))
	}
	sort.Strings(names)
	if len(names) != n {
		t.Fatalf("%d plugins landed: %v", len(names), names)
	}
}

// TestRawPythonClientRequests sends requests byte for byte as dvp's Python
// client (requests 2.31) does, including the raw cookie replay with the
// cookie's attributes, and the upload's hand-built multipart body.
func TestRawPythonClientRequests(t *testing.T) {
	te := startEngine(t, "")
	addr := strings.TrimPrefix(te.srv.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	cookie := ""
	send := func(method, path, contentType string, body []byte) (int, []byte) {
		t.Helper()
		var req bytes.Buffer
		fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: python-requests/2.31.0\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n", method, path, addr)
		if cookie != "" {
			fmt.Fprintf(&req, "Cookie: %s\r\n", cookie)
		}
		fmt.Fprintf(&req, "Content-type: %s\r\n", contentType)
		if body != nil {
			fmt.Fprintf(&req, "Content-Length: %d\r\n", len(body))
		} else if method == "POST" {
			req.WriteString("Content-Length: 0\r\n")
		}
		req.WriteString("\r\n")
		req.Write(body)
		if _, err := conn.Write(req.Bytes()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if sc := resp.Header.Get("Set-Cookie"); sc != "" {
			cookie = sc
		}
		return resp.StatusCode, b
	}
	pySession := []byte(`{"version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}, "type": "APISession"}`)
	if code, b := send("POST", "/resources/json/delphix/session", "application/json", pySession); code != 200 || !bytes.Contains(b, []byte(`"type":"OKResult"`)) {
		t.Fatalf("session: %d %s", code, b)
	}
	pyLogin := []byte(`{"type": "LoginRequest", "username": "admin", "password": "s3cret-p\u00e4ssword"}`)
	if code, b := send("POST", "/resources/json/delphix/login", "application/json", pyLogin); code != 200 || !bytes.Contains(b, []byte(`"result":"USER-1"`)) {
		t.Fatalf("login: %d %s", code, b)
	}
	if !strings.Contains(cookie, "; Path=/resources; HttpOnly") {
		t.Errorf("raw cookie %q", cookie)
	}
	code, b := send("POST", "/resources/json/delphix/toolkit/requestUploadToken", "application/json", nil)
	var tokRes struct {
		Type   string
		Result struct{ Type, URL, Token string }
	}
	if json.Unmarshal(b, &tokRes); code != 200 || tokRes.Result.Type != "FileUploadResult" || tokRes.Result.URL != "/resources/json/delphix/data/upload" {
		t.Fatalf("token: %d %s", code, b)
	}
	// Python re-serializes the artifact compactly with json.dumps.
	compact, err := pyjson.Format(enginetest.Bytes(enginetest.Options{}), -1)
	if err != nil {
		t.Fatal(err)
	}
	code, b = send("POST", "/resources/json/delphix/data/upload", "multipart/form-data; boundary=----------boundary------", multipartBody(tokRes.Result.Token, "artifact.json", compact))
	if code != 200 || !bytes.HasPrefix(b, []byte(`{"type":"OKResult","status":"OK","result":"","job":null,"action":"ACTION-`)) {
		t.Fatalf("upload: %d %s", code, b)
	}
	code, b = send("GET", "/resources/json/delphix/toolkit", "application/json", nil)
	if code != 200 || !bytes.Contains(b, []byte(`"identifier":"`+enginetest.DefaultID+`"`)) || !bytes.Contains(b, []byte(`"namespace":null`)) {
		t.Fatalf("toolkit: %d %s", code, b)
	}
	pyBundle := []byte(`{"type": "SupportBundleGenerateParameters", "bundleType": "PLUGIN_LOG", "plugin": "APPDATA_TOOLKIT-1"}`)
	code, b = send("POST", "/resources/json/delphix/service/support/bundle/generate", "application/json", pyBundle)
	var data struct{ Type, Result string }
	if json.Unmarshal(b, &data); code != 200 || data.Type != "DataResult" {
		t.Fatalf("bundle: %d %s", code, b)
	}
	code, b = send("GET", "/resources/json/delphix/data/downloadOutputStream?token="+data.Result, "application/octet-stream", nil)
	if code != 200 || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Fatalf("download: %d %.100q", code, b)
	}
}

func TestBadBase64IsAProblemNotACutShortUpload(t *testing.T) {
	te := startEngine(t, "")
	c := te.client(t)
	c.login(testPassword)
	for name, src := range map[string]string{"corrupt": "%%%%", "unpadded": "QUJ", "not a zip": "QUJD"} {
		env := c.upload(enginetest.Bytes(enginetest.Options{Mutate: func(a *artifact.Artifact) { a.SourceCode = src }}))
		if env.code != 400 || env.Error.ID != "exception.toolkit.invalid.artifact" || !strings.Contains(env.Error.Details, "/sourceCode") {
			t.Errorf("%s: %+v", name, env)
		}
	}
	// A body cut in the middle of sourceCode is a cut-short upload.
	tok := c.token()
	doc := enginetest.Bytes(enginetest.Options{})
	body := multipartBody(tok, "artifact.json", doc)
	cut := bytes.Index(body, []byte(`"sourceCode": "`)) + 40
	resp, b := c.do("POST", "delphix/data/upload", multipartType, bytes.NewReader(body[:cut]))
	if resp.StatusCode != 400 || !strings.Contains(string(b), "exception.upload.malformed") {
		t.Errorf("cut short: %d %s", resp.StatusCode, b)
	}
	if entries, _ := os.ReadDir(filepath.Join(te.dir, store.TmpDir)); len(entries) != 0 {
		t.Errorf("spool files left: %v", entries)
	}
}

// A data directory's lock held for a moment by a copy of the stopped
// engine's file (a process forked meanwhile, not yet exec'd) is waited for;
// one held for good is another engine's.
func TestDataDirLockHeldForAMoment(t *testing.T) {
	dir := t.TempDir()
	holder, err := os.OpenFile(filepath.Join(dir, store.LockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := filelock.TryLock(holder); err != nil {
		t.Fatal(err)
	}
	tries := 0
	old := waitLock
	waitLock = func(try int) {
		tries = try
		if try == 3 {
			holder.Close()
		}
	}
	defer func() { waitLock = old }()
	e, _, err := New(Config{DataDir: dir, AdminPassword: testPassword, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatalf("the lock was let go after 3 waits: %v", err)
	}
	e.Close()
	if tries != 3 {
		t.Errorf("%d waits, want 3", tries)
	}

	tries = 0
	waitLock = func(try int) { tries = try }
	e, _, err = New(Config{DataDir: dir, AdminPassword: testPassword, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, _, err := New(Config{DataDir: dir}); err == nil || !strings.Contains(err.Error(), "in use by another engine") {
		t.Errorf("second engine on the same directory: %v", err)
	}
	if tries != lockTries-1 {
		t.Errorf("%d waits before the refusal, want %d", tries, lockTries-1)
	}
}
