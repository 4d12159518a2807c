package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
)

// recorded is one request as the engine saw it.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
	ContentLength          int64
}

// recorder is a fake engine: it records requests and answers from a script.
type recorder struct {
	mu       sync.Mutex
	reqs     []recorded
	answer   func(n int, r *http.Request, reqBody []byte) (status int, header map[string]string, respBody string)
	keepBody bool
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	n := len(rec.reqs)
	kept := body
	if !rec.keepBody && len(body) > 1<<20 {
		kept = nil
	}
	rec.reqs = append(rec.reqs, recorded{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: kept, ContentLength: r.ContentLength})
	rec.mu.Unlock()
	status, hdr, out := rec.answer(n, r, body)
	for k, v := range hdr {
		w.Header().Add(k, v)
	}
	w.WriteHeader(status)
	io.WriteString(w, out)
}

func (rec *recorder) paths() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var p []string
	for _, r := range rec.reqs {
		p = append(p, r.Method+" "+strings.TrimPrefix(r.Path, engineapi.APIPrefix))
	}
	return p
}

const (
	okEmpty      = `{"type": "OKResult", "status": "OK", "result": "", "job": null, "action": null}`
	sessionOK    = `{"type": "OKResult", "status": "OK", "result": {"type": "APISession", "version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}}, "job": null, "action": null}`
	loginOK      = `{"type": "OKResult", "status": "OK", "result": "USER-2", "job": null, "action": null}`
	tokenOK      = `{"type": "OKResult", "status": "OK", "result": {"type": "FileUploadResult", "url": "/resources/json/delphix/data/upload", "token": "8d8c2e7a-1111-4222-8333-944455556666"}, "job": null, "action": null}`
	uploadOK     = `{"type":"OKResult","status":"OK","result":"","job":null,"action":"ACTION-2"}`
	uploadJobOK  = `{"type":"OKResult","status":"OK","result":"","job":"JOB-7","action":"ACTION-3"}`
	cookie1      = "JSESSIONID=8F07AAAA; Path=/resources; HttpOnly"
	cookie2      = "JSESSIONID=9C11BBBB; Path=/resources; HttpOnly"
	testUser     = "admin"
	testPassword = "pässword"
)

// engineScript answers the login and upload requests in order.
func engineScript(uploadAnswer string, extra func(n int, r *http.Request) (int, string)) func(int, *http.Request, []byte) (int, map[string]string, string) {
	return func(n int, r *http.Request, _ []byte) (int, map[string]string, string) {
		p := strings.TrimPrefix(r.URL.Path, engineapi.APIPrefix)
		switch p {
		case "delphix/session":
			return 200, map[string]string{"Set-Cookie": cookie1}, sessionOK
		case "delphix/login":
			return 200, map[string]string{"Set-Cookie": cookie2}, loginOK
		case "delphix/toolkit/requestUploadToken":
			return 200, nil, tokenOK
		case "delphix/data/upload":
			return 200, nil, uploadAnswer
		}
		if extra != nil {
			s, b := extra(n, r)
			return s, nil, b
		}
		return 404, nil, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": "no", "action": null, "id": "x", "commandOutput": null, "diagnoses": []}}`
	}
}

func newTestClient(t *testing.T, url string, mod ...func(*engineclient.Options)) (*Client, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	o := engineclient.Options{Engine: url, Log: slog.New(levelText{logs}), Backoff: time.Millisecond, ReadTimeout: 10 * time.Second}
	for _, m := range mod {
		m(&o)
	}
	c, err := engineclient.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &Client{Engine: c}, logs
}

// levelText writes "LEVEL message" lines, to check what the user sees.
type levelText struct{ w *bytes.Buffer }

func (l levelText) Enabled(context.Context, slog.Level) bool { return true }
func (l levelText) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		fmt.Fprintf(l.w, "%s %s\n", r.Level, r.Message)
	}
	return nil
}
func (l levelText) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l levelText) WithGroup(string) slog.Handler      { return l }

func writeArtifact(t *testing.T, o enginetest.Options) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "artifact.json")
	if _, err := enginetest.WriteFile(p, o); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWireUpload holds the requests of login and upload to dvp's
// (docs/upload.md, "Wire compatibility"): paths and their order, the JSON
// bodies byte for byte (json.dumps separators, key order, ASCII escapes),
// the multipart layout, the file sent as it is, and the replay of the
// latest raw Set-Cookie value.
func TestWireUpload(t *testing.T) {
	rec := &recorder{answer: engineScript(uploadOK, nil), keepBody: true}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	path := writeArtifact(t, enginetest.Options{})
	fileBytes, _ := os.ReadFile(path)
	res, err := c.Upload(context.Background(), UploadOptions{User: testUser, Password: testPassword, ArtifactPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != "ACTION-2" || res.Job != "" {
		t.Errorf("result %+v", res)
	}
	want := []string{"POST delphix/session", "POST delphix/login", "POST delphix/toolkit/requestUploadToken", "POST delphix/data/upload"}
	if got := rec.paths(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("requests %v, want %v", got, want)
	}
	r := rec.reqs
	if got := string(r[0].Body); got != `{"version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}, "type": "APISession"}` {
		t.Errorf("session body %s", got)
	}
	if got := string(r[1].Body); got != `{"type": "LoginRequest", "username": "admin", "password": "p\u00e4ssword"}` {
		t.Errorf("login body %s", got)
	}
	if len(r[2].Body) != 0 || r[2].ContentLength != 0 {
		t.Errorf("token request has a body: %q", r[2].Body)
	}
	for i, q := range r[:3] {
		if q.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %d Content-Type %q", i, q.Header.Get("Content-Type"))
		}
	}
	// Cookies: none on the first request, then the latest raw value.
	if r[0].Header.Get("Cookie") != "" || r[1].Header.Get("Cookie") != cookie1 || r[2].Header.Get("Cookie") != cookie2 || r[3].Header.Get("Cookie") != cookie2 {
		t.Errorf("cookies: %q %q %q %q", r[0].Header.Get("Cookie"), r[1].Header.Get("Cookie"), r[2].Header.Get("Cookie"), r[3].Header.Get("Cookie"))
	}
	up := r[3]
	if ct := up.Header.Get("Content-Type"); ct != "multipart/form-data; boundary=----------boundary------" {
		t.Errorf("upload Content-Type %q", ct)
	}
	wantBody := "------------boundary------\r\n" +
		"Content-Disposition: form-data; name=\"token\"\r\n\r\n" +
		"8d8c2e7a-1111-4222-8333-944455556666\r\n" +
		"------------boundary------\r\n" +
		"Content-Disposition:form-data; name=\"file\"; filename=\"artifact.json\"\r\n" +
		"Content-Type: application/octet-stream\r\n\r\n" +
		string(fileBytes) +
		"\r\n------------boundary--------\r\n"
	if string(up.Body) != wantBody {
		t.Errorf("multipart body differs:\n got: %.400q\nwant: %.400q", up.Body, wantBody)
	}
	if up.ContentLength != int64(len(wantBody)) || len(up.Header.Values("Transfer-Encoding")) != 0 {
		t.Errorf("upload Content-Length %d, want %d", up.ContentLength, len(wantBody))
	}
}

func TestWireDownloadLogs(t *testing.T) {
	bundle := "\x1f\x8bfake tar.gz"
	toolkits := `{"type": "ListResult", "status": "OK", "result": [
		{"type": "Toolkit", "reference": "APPDATA_TOOLKIT-9", "namespace": "NAMESPACE-1", "identifier": "` + enginetest.DefaultID + `"},
		{"type": "Toolkit", "reference": "APPDATA_TOOLKIT-1", "namespace": null, "identifier": "other"},
		{"type": "Toolkit", "reference": "APPDATA_TOOLKIT-2", "namespace": null, "identifier": "` + enginetest.DefaultID + `"}],
		"job": null, "action": null, "total": 3, "overflow": false}`
	rec := &recorder{keepBody: true, answer: engineScript("", func(n int, r *http.Request) (int, string) {
		switch strings.TrimPrefix(r.URL.Path, engineapi.APIPrefix) {
		case "delphix/toolkit":
			return 200, toolkits
		case "delphix/service/support/bundle/generate":
			return 200, `{"type": "DataResult", "status": "OK", "result": " 5d6d5bb8-0f71-4304-8922-49c4c95c2387\n", "job": null, "action": null}`
		case "delphix/data/downloadOutputStream":
			return 200, bundle
		}
		return 404, "{}"
	})}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, logs := newTestClient(t, srv.URL)
	dir := t.TempDir()
	got, err := c.DownloadLogs(context.Background(), DownloadLogsOptions{User: testUser, Password: testPassword, PluginID: enginetest.DefaultID, PluginName: "my/plugin", Directory: dir, EngineName: "e"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"POST delphix/session", "POST delphix/login", "GET delphix/toolkit", "POST delphix/service/support/bundle/generate", "GET delphix/data/downloadOutputStream"}
	if p := rec.paths(); strings.Join(p, "|") != strings.Join(want, "|") {
		t.Fatalf("requests %v", p)
	}
	r := rec.reqs
	if string(r[3].Body) != `{"type": "SupportBundleGenerateParameters", "bundleType": "PLUGIN_LOG", "plugin": "APPDATA_TOOLKIT-2"}` {
		t.Errorf("bundle body %s", r[3].Body)
	}
	if r[4].RawQuery != "token=5d6d5bb8-0f71-4304-8922-49c4c95c2387" || r[4].Header.Get("Content-Type") != "application/octet-stream" || r[4].Header.Get("Cookie") != cookie2 {
		t.Errorf("download request %+v", r[4])
	}
	if string(r[0].Body) != `{"version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}, "type": "APISession"}` {
		t.Errorf("download-logs logs in with %s", r[0].Body)
	}
	wantPath := filepath.Join(dir, "dlpx-plugin-logs-my_plugin-5d6d5bb8-0f71-4304-8922-49c4c95c2387.tar.gz")
	if got != wantPath {
		t.Errorf("path %s, want %s", got, wantPath)
	}
	if b, _ := os.ReadFile(wantPath); string(b) != bundle {
		t.Errorf("file %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if !strings.Contains(logs.String(), "Plugin logs were successfully downloaded to "+dir+".") {
		t.Errorf("logs %s", logs)
	}

	// Not found: dvp's MissingPluginError.
	_, err = c.DownloadLogs(context.Background(), DownloadLogsOptions{User: testUser, Password: testPassword, PluginID: "nope", PluginName: "p", Directory: dir, EngineName: "myengine"})
	if err == nil || err.Error() != `Cannot find plugin p on Delphix Engine myengine. Upload your plugin with "dvp upload" and try again.` {
		t.Errorf("missing plugin: %v", err)
	}
}

func TestDownloadNameCannotTraverse(t *testing.T) {
	rec := &recorder{answer: engineScript("", func(n int, r *http.Request) (int, string) {
		switch strings.TrimPrefix(r.URL.Path, engineapi.APIPrefix) {
		case "delphix/toolkit":
			return 200, `{"type": "ListResult", "status": "OK", "result": [{"reference": "APPDATA_TOOLKIT-1", "namespace": null, "identifier": "id"}]}`
		case "delphix/service/support/bundle/generate":
			return 200, `{"type": "DataResult", "status": "OK", "result": "../../../tmp/evil"}`
		case "delphix/data/downloadOutputStream":
			return 200, "data"
		}
		return 404, "{}"
	})}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	dir := t.TempDir()
	got, err := c.DownloadLogs(context.Background(), DownloadLogsOptions{PluginID: "id", PluginName: "../../x", Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(got) != dir || strings.Contains(filepath.Base(got), "/") {
		t.Errorf("written to %s", got)
	}
	if filepath.Base(got) != "dlpx-plugin-logs-_._.._x-_._.._.._tmp_evil.tar.gz" {
		t.Errorf("name %s", filepath.Base(got))
	}
}

func TestWaitFollowsTheJob(t *testing.T) {
	polls := 0
	rec := &recorder{answer: engineScript(uploadJobOK, func(n int, r *http.Request) (int, string) {
		if r.URL.Path != engineapi.APIPrefix+"delphix/action/ACTION-3/getJob" {
			return 404, "{}"
		}
		polls++
		ev1 := `{"type": "JobEvent", "timestamp": "2025-06-01T12:00:00.001Z", "messageCode": "event.a", "messageDetails": "Upgrading.", "messageAction": null}`
		ev2 := `{"type": "JobEvent", "timestamp": "2025-06-01T12:00:00.002Z", "messageCode": "event.b", "messageDetails": "Done.", "messageAction": "Nothing to do."}`
		if polls < 3 {
			return 200, `{"type": "OKResult", "status": "OK", "result": {"type": "Job", "jobState": "RUNNING", "events": [` + ev1 + `]}}`
		}
		return 200, `{"type": "OKResult", "status": "OK", "result": {"type": "Job", "jobState": "COMPLETED", "events": [` + ev1 + `, ` + ev2 + `]}}`
	})}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, logs := newTestClient(t, srv.URL)
	path := writeArtifact(t, enginetest.Options{})
	var pauses []time.Duration
	_, err := c.Upload(context.Background(), UploadOptions{User: testUser, Password: testPassword, ArtifactPath: path, Wait: true,
		WaitOptions: WaitOptions{First: 10 * time.Millisecond, Paused: func(d time.Duration) { pauses = append(pauses, d) }}})
	if err != nil {
		t.Fatal(err)
	}
	// The first polls are quick: the pauses start at First and grow by the
	// factor (1.6), whatever the machine's load.
	if want := []time.Duration{10 * time.Millisecond, 16 * time.Millisecond, 25600 * time.Microsecond}; !slices.Equal(pauses, want) {
		t.Errorf("pauses before the polls: %v, want %v", pauses, want)
	}
	want := "INFO Timestamp: 2025-06-01T12:00:00.001Z, Code: event.a\nWARN Upgrading.\n" +
		"INFO Timestamp: 2025-06-01T12:00:00.002Z, Code: event.b\nWARN Done.\nWARN Nothing to do.\n" +
		"WARN Plugin artifact.json was successfully uploaded.\n"
	if got := logs.String(); !strings.HasSuffix(got, want) {
		t.Errorf("wait output:\n%s\nwant suffix:\n%s", got, want)
	}
	if polls != 3 {
		t.Errorf("%d polls", polls)
	}
}

func TestWaitFailureAndTimeout(t *testing.T) {
	state := "FAILED"
	rec := &recorder{answer: engineScript(uploadOK, func(n int, r *http.Request) (int, string) {
		if r.URL.Path != engineapi.APIPrefix+"delphix/action/ACTION-2" {
			return 404, "{}"
		}
		return 200, `{"type": "OKResult", "status": "OK", "result": {"type": "Action", "state": "` + state + `"}}`
	})}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	path := writeArtifact(t, enginetest.Options{})
	for _, s := range []string{"FAILED", "CANCELLED", "SUSPENDED"} {
		state = s
		_, err := c.Upload(context.Background(), UploadOptions{ArtifactPath: path, Wait: true, WaitOptions: WaitOptions{First: time.Millisecond}})
		var ue *engineclient.Error
		if !errors.As(err, &ue) || ue.Kind != engineclient.KindJobFailed || err.Error() != "Failed trying to upload plugin artifact.json." {
			t.Errorf("%s: %v", s, err)
		}
	}
	state = "RUNNING"
	_, err := c.Upload(context.Background(), UploadOptions{ArtifactPath: path, Wait: true, WaitOptions: WaitOptions{First: time.Millisecond, Timeout: 50 * time.Millisecond}})
	if err == nil || err.Error() != "Timed out waiting for upload of plugin artifact.json to complete." {
		t.Errorf("timeout: %v", err)
	}
}

func TestArtifactChecks(t *testing.T) {
	dir := t.TempDir()
	_, err := CheckArtifact(filepath.Join(dir, "missing.json"))
	if err == nil || err.Error() != "Unable to read upload artifact file '"+filepath.Join(dir, "missing.json")+"'\nError code: 2. Error message: ENOENT" {
		t.Errorf("missing: %v", err)
	}
	for body, want := range map[string]string{
		`{"engineApi": `:              InvalidJSONMessage,
		`not json`:                    InvalidJSONMessage,
		`{"a": 1} trailing`:           InvalidJSONMessage,
		`[1, 2]`:                      InvalidEngineAPIMessge,
		`{}`:                          InvalidEngineAPIMessge,
		`{"engineApi": null}`:         InvalidEngineAPIMessge,
		`{"engineApi": "not a dict"}`: InvalidEngineAPIMessge,
		`{"engineApi": {"type": "APIVersion", "major": "not an int", "minor": 7, "micro": 0}}`: InvalidEngineAPIMessge,
		`{"engineApi": {"type": "APIVersion", "major": 1.0, "minor": 7, "micro": 0}}`:          InvalidEngineAPIMessge,
		`{"engineApi": {"type": "Version", "major": 1, "minor": 7, "micro": 0}}`:               InvalidEngineAPIMessge,
	} {
		p := filepath.Join(dir, "a.json")
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := CheckArtifact(p); err == nil || err.Error() != want {
			t.Errorf("%s: got %v", body, err)
		}
	}
	if !strings.Contains(InvalidEngineAPIMessge, "{\n  \"type\": \"APIVersion\",\n  \"major\": 1,\n  \"minor\": 7,\n  \"micro\": 0\n}\nBuild the artifact with 'dvp build'.") {
		t.Error("message layout")
	}
	p := filepath.Join(dir, "ok.json")
	os.WriteFile(p, []byte(`{"engineApi": {"type": "APIVersion", "major": 1, "minor": 7, "micro": 0}}`), 0o644)
	if v, err := CheckArtifact(p); err != nil || v.Minor != 7 {
		t.Errorf("valid: %v %v", v, err)
	}
}

func TestRetriesOnlyIdempotentRequests(t *testing.T) {
	var mu sync.Mutex
	count := map[string]int{}
	rec := &recorder{answer: func(n int, r *http.Request, _ []byte) (int, map[string]string, string) {
		mu.Lock()
		defer mu.Unlock()
		p := strings.TrimPrefix(r.URL.Path, engineapi.APIPrefix)
		count[p]++
		switch p {
		case "delphix/session":
			if count[p] < 3 {
				return 503, nil, "busy"
			}
			return 200, nil, sessionOK
		case "delphix/login":
			return 200, nil, loginOK
		case "delphix/toolkit/requestUploadToken":
			return 200, nil, tokenOK
		case "delphix/data/upload":
			return 503, nil, "busy"
		}
		return 404, nil, "{}"
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	_, err := c.Upload(context.Background(), UploadOptions{ArtifactPath: writeArtifact(t, enginetest.Options{})})
	if err == nil || !strings.Contains(err.Error(), "HTTP Status 503") {
		t.Errorf("upload: %v", err)
	}
	if count["delphix/session"] != 3 || count["delphix/data/upload"] != 1 {
		t.Errorf("counts %v: the session must be retried, the upload never", count)
	}
}

// TestUploadMemoryIsFlat uploads a 256 MiB artifact and checks the client
// allocated a small fraction of it: the file is streamed, not loaded.
func TestUploadMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var got int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.URL.Path, engineapi.APIPrefix) {
		case "delphix/data/upload":
			got, _ = io.Copy(io.Discard, r.Body)
			io.WriteString(w, uploadOK)
		case "delphix/toolkit/requestUploadToken":
			io.WriteString(w, tokenOK)
		default:
			io.WriteString(w, okEmpty)
		}
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "artifact.json")
	f, _ := os.Create(path)
	io.WriteString(f, `{"engineApi": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}, "sourceCode": "`)
	chunk := bytes.Repeat([]byte("QUJD"), 1<<18)
	for i := 0; i < 256; i++ {
		f.Write(chunk)
	}
	io.WriteString(f, `"}`)
	f.Close()
	c, _ := newTestClient(t, srv.URL)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := c.Upload(context.Background(), UploadOptions{ArtifactPath: path}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	st, _ := os.Stat(path)
	if got < st.Size() {
		t.Errorf("server got %d of %d bytes", got, st.Size())
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("the client allocated %d MiB to upload %d MiB", alloc>>20, st.Size()>>20)
	}
}

// TestUploadChecksWhileLoggingIn: with engineApi at the start of the
// artifact, dvp logs in while the rest is checked; an artifact that then
// fails the check is never sent, and its error is the one reported (also
// over a failed login); a later duplicate engineApi (the one that counts,
// as in Python) makes dvp log in again with it before sending. Without
// engineApi among the first keys, nothing is sent before the check.
func TestUploadChecksWhileLoggingIn(t *testing.T) {
	loginStatus := 200
	rec := &recorder{answer: func(n int, r *http.Request, _ []byte) (int, map[string]string, string) {
		switch strings.TrimPrefix(r.URL.Path, engineapi.APIPrefix) {
		case "delphix/session":
			return 200, nil, sessionOK
		case "delphix/login":
			if loginStatus != 200 {
				return loginStatus, nil, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": "Invalid username or password.", "action": "Try with a different set of credentials.", "id": "exception.webservices.login.failed"}}`
			}
			return 200, nil, loginOK
		case "delphix/toolkit/requestUploadToken":
			return 200, nil, tokenOK
		case "delphix/data/upload":
			return 200, nil, uploadOK
		}
		return 404, nil, "{}"
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "artifact.json")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	api := func(minor, micro int) string {
		return fmt.Sprintf(`{"type": "APIVersion", "major": 1, "minor": %d, "micro": %d}`, minor, micro)
	}
	upload := func(path string) error {
		rec.mu.Lock()
		rec.reqs = nil
		rec.mu.Unlock()
		c, _ := newTestClient(t, srv.URL)
		_, err := c.Upload(context.Background(), UploadOptions{User: testUser, Password: testPassword, ArtifactPath: path})
		return err
	}
	sent := func() bool { return slices.Contains(rec.paths(), "POST delphix/data/upload") }

	// Broken after engineApi: logged in, never sent, the check's error.
	broken := write(`{"type": "Plugin", "engineApi": ` + api(11, 16) + `, "sourceCode": "UEsDBA==", "name": }`)
	if err := upload(broken); err == nil || err.Error() != InvalidJSONMessage {
		t.Errorf("broken after engineApi: %v", err)
	}
	if sent() {
		t.Errorf("broken after engineApi: the file was sent: %v", rec.paths())
	}
	// The same with a failed login: the artifact's error, as when it is
	// checked first.
	loginStatus = 401
	if err := upload(broken); err == nil || err.Error() != InvalidJSONMessage {
		t.Errorf("broken artifact, failed login: %v", err)
	}
	loginStatus = 200

	// A later duplicate engineApi counts: the session that uploads has it.
	dup := write(`{"engineApi": ` + api(7, 0) + `, "sourceCode": "UEsDBA==", "engineApi": ` + api(11, 16) + `}`)
	if err := upload(dup); err != nil {
		t.Fatalf("duplicate engineApi: %v", err)
	}
	rec.mu.Lock()
	var last []byte
	for _, r := range rec.reqs {
		if strings.HasSuffix(r.Path, "delphix/session") {
			last = r.Body
		}
	}
	rec.mu.Unlock()
	order := rec.paths()
	if !bytes.Contains(last, []byte(`"minor": 11`)) || order[len(order)-1] != "POST delphix/data/upload" {
		t.Errorf("duplicate engineApi: last session %s, requests %v", last, order)
	}

	// engineApi after sourceCode, or not there: nothing before the check.
	for _, body := range []string{
		`{"sourceCode": "UEsDBA==", "engineApi": ` + api(11, 16) + `, "name": }`,
		`{"sourceCode": "UEsDBA==", "name": "x"}`,
		`not json`,
	} {
		if err := upload(write(body)); err == nil {
			t.Errorf("%s: uploaded", body)
		}
		if p := rec.paths(); len(p) != 0 {
			t.Errorf("%s: requests before the check failed: %v", body, p)
		}
	}
	// A valid artifact: the requests of dvp, in order.
	if err := upload(writeArtifact(t, enginetest.Options{})); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.paths(), []string{"POST delphix/session", "POST delphix/login", "POST delphix/toolkit/requestUploadToken", "POST delphix/data/upload"}; !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
}
