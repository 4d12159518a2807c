package engine

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// fuzzEngine is one engine per fuzz worker process, driven in-process
// through its http.Handler (no network).
type fuzzEngine struct {
	e      *Engine
	cookie string // a logged-in session
}

func newFuzzEngine(f *testing.F) *fuzzEngine {
	e, _, err := New(Config{DataDir: f.TempDir(), AdminPassword: testPassword, BcryptCost: bcrypt.MinCost, MaxUploadBytes: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { e.Close() })
	fe := &fuzzEngine{e: e}
	fe.cookie = fe.login(f)
	return fe
}

func (fe *fuzzEngine) serve(method, path, ctype, cookie string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://127.0.0.1"+path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	fe.e.Handler().ServeHTTP(w, req)
	return w
}

func (fe *fuzzEngine) session(tb testing.TB) string {
	w := fe.serve("POST", engineapi.APIPrefix+"delphix/session", "application/json", "",
		[]byte(`{"type": "APISession", "version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}}`))
	c := w.Header().Get("Set-Cookie")
	if w.Code != 200 || c == "" {
		tb.Fatalf("session: %d %s", w.Code, w.Body)
	}
	return c
}

func (fe *fuzzEngine) login(tb testing.TB) string {
	w := fe.serve("POST", engineapi.APIPrefix+"delphix/login", "application/json", fe.session(tb),
		[]byte(`{"type": "LoginRequest", "username": "admin", "password": "`+testPassword+`"}`))
	c := w.Header().Get("Set-Cookie")
	if w.Code != 200 || c == "" {
		tb.Fatalf("login: %d %s", w.Code, w.Body)
	}
	return c
}

func (fe *fuzzEngine) token(tb testing.TB) string {
	w := fe.serve("POST", engineapi.APIPrefix+"delphix/toolkit/requestUploadToken", "", fe.cookie, nil)
	var env struct{ Result struct{ Token string } }
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &env) != nil || env.Result.Token == "" {
		tb.Fatalf("token: %d %s", w.Code, w.Body)
	}
	return env.Result.Token
}

// checkAnswer holds for every answer to any input: no 5xx (a bad request is
// the client's fault, never an engine failure) and a JSON envelope.
func checkAnswer(t *testing.T, what string, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s: HTTP %d: %s", what, w.Code, w.Body)
	}
	var env map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatalf("%s: HTTP %d, not a JSON envelope (%v): %q", what, w.Code, err, w.Body)
	}
	switch env["type"] {
	case "OKResult", "DataResult", "ListResult":
		if w.Code != 200 || env["status"] != "OK" {
			t.Fatalf("%s: HTTP %d with %s", what, w.Code, w.Body)
		}
	case "ErrorResult":
		e, _ := env["error"].(map[string]any)
		if env["status"] != "ERROR" || e == nil || e["details"] == "" || e["details"] == nil {
			t.Fatalf("%s: bad ErrorResult %s", what, w.Body)
		}
	default:
		t.Fatalf("%s: unknown envelope %s", what, w.Body)
	}
	return env
}

// FuzzEngineUpload posts fuzzed uploads to delphix/data/upload with a
// fresh token: raw=false wraps doc (an artifact.json) in the exact
// multipart body dvp sends; raw=true sends doc as the whole multipart body
// ("@TOKEN@" is replaced by the token). The engine must answer with an
// envelope, never a 5xx; an accepted upload must then be listed.
//
//	go test -run '^$' -fuzz '^FuzzEngineUpload$' -fuzztime 5m -parallel 1 ./internal/engine/
func FuzzEngineUpload(f *testing.F) {
	good := enginetest.Bytes(enginetest.Options{})
	f.Add(good, false)
	f.Add(enginetest.Bytes(enginetest.Options{BuildNumber: "2", Staged: true}), false)
	f.Add(enginetest.Bytes(enginetest.Options{BuildNumber: "3", MigrationIDs: []string{"1"}}), false)
	f.Add([]byte(`{"sourceCode": "!!!", "engineApi": {}}`), false)
	f.Add([]byte(`[]`), false)
	f.Add(multipartBody("@TOKEN@", "artifact.json", good), true)
	f.Add([]byte("------------boundary------\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n@TOKEN@\r\n------------boundary--------\r\n"), true)
	f.Add([]byte("------------boundary------\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n{}\r\n------------boundary--------\r\n"), true)
	f.Add([]byte("------------boundary------\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n@TOKEN@\r\n------------boundary------\r\nContent-Disposition:form-data; name=\"file\"; filename=\"../../x\"\r\n\r\n{\"a\": 1"), true)
	fe := newFuzzEngine(f)
	f.Fuzz(func(t *testing.T, doc []byte, raw bool) {
		tok := fe.token(t)
		body := multipartBody(tok, "artifact.json", doc)
		if raw {
			body = bytes.ReplaceAll(doc, []byte("@TOKEN@"), []byte(tok))
		}
		w := fe.serve("POST", engineapi.APIPrefix+"delphix/data/upload", multipartType, fe.cookie, body)
		env := checkAnswer(t, "upload", w)
		if env["type"] == "OKResult" {
			w := fe.serve("GET", engineapi.APIPrefix+"delphix/toolkit", "", fe.cookie, nil)
			if checkAnswer(t, "list", w)["type"] != "ListResult" || !strings.Contains(w.Body.String(), `"reference"`) {
				t.Fatalf("accepted upload not listed: %s", w.Body)
			}
		}
	})
}

// FuzzEngineJSON sends fuzzed JSON bodies (and references) to every JSON
// resource of the API, logged in (a fresh session for session and login):
// the answer is an envelope, never a 5xx.
//
//	go test -run '^$' -fuzz '^FuzzEngineJSON$' -fuzztime 5m -parallel 1 ./internal/engine/
func FuzzEngineJSON(f *testing.F) {
	routes := []struct{ method, path string }{
		{"POST", "delphix/session"},
		{"POST", "delphix/login"},
		{"POST", "delphix/toolkit/requestUploadToken"},
		{"POST", "delphix/toolkit/{ref}/delete"},
		{"POST", "delphix/service/support/bundle/generate"},
		{"GET", "delphix/toolkit/{ref}"},
		{"GET", "delphix/action/{ref}"},
		{"GET", "delphix/action/{ref}/getJob"},
		{"GET", "delphix/data/downloadOutputStream?token={ref}"},
		{"GET", "delphix/toolkit"},
	}
	seeds := []string{
		`{"type": "APISession", "version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}}`,
		`{"type": "APISession", "version": {"type": "APIVersion", "major": 1e99, "minor": -1, "micro": "x"}}`,
		`{"type": "LoginRequest", "username": "admin", "password": "` + testPassword + `"}`,
		`{"type": "LoginRequest", "username": "admin\u0000", "password": null}`,
		`{"type": "SupportBundleGenerateParameters", "bundleType": "PLUGIN_LOG", "plugin": "APPDATA_TOOLKIT-1"}`,
		`{"type": "SupportBundleGenerateParameters", "bundleType": "PLUGIN_LOG", "plugin": "APPDATA_TOOLKIT-99999999999999999999"}`,
		``, `null`, `[]`, `{"type": 1}`, `{`, "\xff",
	}
	refs := []string{"APPDATA_TOOLKIT-1", "ACTION-1", "JOB-1", "", "..", "%2e%2e", "x/../../y", "ACTION-99999999999999999999", "\x00"}
	for i, s := range seeds {
		f.Add(uint8(i), refs[i%len(refs)], []byte(s))
	}
	fe := newFuzzEngine(f)
	// One plugin installed, so references resolve.
	if w := fe.serve("POST", engineapi.APIPrefix+"delphix/data/upload", multipartType, fe.cookie,
		multipartBody(fe.token(f), "artifact.json", enginetest.Bytes(enginetest.Options{}))); w.Code != 200 {
		f.Fatalf("install: %d %s", w.Code, w.Body)
	}
	f.Fuzz(func(t *testing.T, route uint8, ref string, body []byte) {
		rt := routes[int(route)%len(routes)]
		if ref == "" || ref == "." || ref == ".." || strings.ContainsAny(ref, "/?#%") || strings.ContainsFunc(ref, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			ref = "x" // not a single path segment: the mux's business, not the engine's
		}
		path := engineapi.APIPrefix + strings.ReplaceAll(rt.path, "{ref}", ref)
		cookie := fe.cookie
		switch rt.path {
		case "delphix/session":
			cookie = ""
		case "delphix/login":
			cookie = fe.session(t)
		}
		w := fe.serve(rt.method, path, "application/json", cookie, body)
		if rt.path == "delphix/data/downloadOutputStream?token={ref}" && w.Code == 200 {
			return // a bundle (tar.gz), not an envelope
		}
		checkAnswer(t, rt.method+" "+path, w)
		// The logged-in session still works (nothing above ends it).
		if w := fe.serve("GET", engineapi.APIPrefix+"delphix/toolkit", "", fe.cookie, nil); w.Code != 200 {
			t.Fatalf("session lost after %s %s: %d %s", rt.method, path, w.Code, w.Body)
		}
	})
}
