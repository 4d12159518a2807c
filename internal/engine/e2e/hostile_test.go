//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// These tests run the real dvp binary against a hostile engine: a test
// server on 127.0.0.1 that answers with escape sequences, redirects,
// endless and malformed answers. dvp must print no raw control byte, send
// no cookie elsewhere, and hold bounded memory.

const sessionOK = `{"type": "OKResult", "status": "OK", "result": {"type": "APISession", "version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}}, "job": null, "action": null}`

// hostile is a test engine: session and login succeed (with a cookie)
// unless its handler answers them; everything else goes to the handler.
func hostile(t *testing.T, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/resources/json/delphix/session":
			http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "hostile-session-cookie", Path: "/resources"})
			io.WriteString(w, sessionOK)
		case "/resources/json/delphix/login":
			io.WriteString(w, `{"type": "OKResult", "status": "OK", "result": "USER-1", "job": null, "action": null}`)
		default:
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// assertNoControlBytes fails when out holds a byte a terminal acts on
// (other than newline and tab) or a C1 control.
func assertNoControlBytes(t *testing.T, what, out string) {
	t.Helper()
	for i := 0; i < len(out); i++ {
		c := out[i]
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			t.Errorf("%s holds the raw control byte %#x at %d: %q", what, c, i, out)
			return
		}
	}
	for _, r := range out {
		if r >= 0x80 && r <= 0x9f || r == 0x202e {
			t.Errorf("%s holds the raw control character %U: %q", what, r, out)
			return
		}
	}
}

const nastyText = "Plugin failed\x1b[2J\x1b[H\x1b]52;c;cm0gLXJmIH4K\x07\r\x1b[32mdone\x1b[0m \u009b31m\u202eexe.txt\x7f"

func TestHostileEngineEscapes(t *testing.T) {
	errBody := fmt.Sprintf(`{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": %q, "action": %q, "id": "x"}}`, nastyText, nastyText)
	srv := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/resources/json/delphix/environment" {
			// A list whose names carry escape sequences.
			fmt.Fprintf(w, `{"type": "ListResult", "status": "OK", "result": [{"type": "UnixHostEnvironment", "reference": "UNIX_HOST_ENVIRONMENT-1", "name": %q, "hostType": "local"}], "total": 1}`, nastyText)
			return
		}
		w.WriteHeader(400)
		io.WriteString(w, errBody)
	})
	// An ErrorResult whose details and action hold escapes.
	for _, args := range [][]string{
		{"environment", "refresh", "env1"},
		{"environment", "list"},
		{"environment", "list", "-o", "json"},
		{"snapshot", "list", "ds1"},
	} {
		res := dvp(t, nil, append(args, "-e", srv.URL, "-u", "admin")...)
		assertNoControlBytes(t, strings.Join(args, " ")+" stdout", res.stdout)
		assertNoControlBytes(t, strings.Join(args, " ")+" stderr", res.stderr)
		if !strings.Contains(res.stdout+res.stderr, `\x1b[2J`) {
			t.Errorf("%v: the escape sequence is not shown escaped:\nstdout %q\nstderr %q", args, res.stdout, res.stderr)
		}
	}
}

func TestHostileEngineRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	var leaked atomic.Value
	leaked.Store("")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		leaked.Store(r.Header.Get("Cookie"))
		io.WriteString(w, `{"type": "ListResult", "status": "OK", "result": [], "total": 0}`)
	}))
	defer other.Close()
	for _, code := range []int{301, 302, 307, 308} {
		srv := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path, code)
		})
		res := dvp(t, nil, "environment", "list", "-e", srv.URL, "-u", "admin")
		if res.code != 1 || !strings.Contains(res.stderr, fmt.Sprintf("redirect (HTTP status %d) to %s/resources/json/delphix/environment", code, other.URL)) ||
			!strings.Contains(res.stderr, "dvp follows no redirect") {
			t.Errorf("%d: exit %d\n%s", code, res.code, res.stderr)
		}
		assertNoControlBytes(t, "stderr", res.stderr)
	}
	// The session request redirected, too.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	if res := dvp(t, nil, "environment", "list", "-e", srv.URL, "-u", "admin"); res.code != 1 || !strings.Contains(res.stderr, "redirect") {
		t.Errorf("session redirected: exit %d\n%s", res.code, res.stderr)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other server got %d requests (cookie %q)", n, leaked.Load())
	}
}

// TestHostileEngineEndlessAnswer: an answer that never ends is read up to
// 16 MiB; dvp's memory stays bounded and the server sees it stop reading.
func TestHostileEngineEndlessAnswer(t *testing.T) {
	var written atomic.Int64
	srv := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"type": "ListResult", "status": "OK", "result": [`)
		chunk := []byte(strings.Repeat(`{"name": "x"}, `, 4096))
		for i := 0; i < 1<<16; i++ { // 4 GiB at most
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	res := dvpRSS(t, "environment", "list", "-e", srv.URL, "-u", "admin")
	if res.code != 1 || !strings.Contains(res.stderr, "is larger than 16 MiB") {
		t.Errorf("exit %d\n%.2000s", res.code, res.stderr)
	}
	srv.CloseClientConnections()
	if n := written.Load(); n > 40<<20 {
		t.Errorf("the server wrote %d MiB before dvp stopped reading", n>>20)
	}
	if res.maxRSSKiB > 80<<10 {
		t.Errorf("dvp's peak RSS was %d MiB reading an endless answer", res.maxRSSKiB>>10)
	}
	t.Logf("server wrote %d MiB; dvp's peak RSS %d MiB", written.Load()>>20, res.maxRSSKiB>>10)
}

// TestHostileEngineMalformedAnswer: a malformed answer is quoted in part
// (its first lines and its size), escaped.
func TestHostileEngineMalformedAnswer(t *testing.T) {
	line := "<html>\x1b[2J not JSON at all, line %d\n"
	srv := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(502)
		for i := range 50000 {
			fmt.Fprintf(w, line, i)
		}
	})
	res := dvp(t, nil, "environment", "list", "-e", srv.URL, "-u", "admin")
	if res.code != 1 || !strings.Contains(res.stderr, "HTTP Status 502") || !strings.Contains(res.stderr, "line 0\n") ||
		strings.Contains(res.stderr, "line 30\n") || !strings.Contains(res.stderr, "bytes in all") {
		t.Errorf("exit %d\n%.3000s", res.code, res.stderr)
	}
	if len(res.stderr) > 8<<10 {
		t.Errorf("%d bytes on stderr for a malformed answer", len(res.stderr))
	}
	assertNoControlBytes(t, "stderr", res.stderr)
}

// TestNoEngineAnswers: a refused connection says how to start the local
// engine or which setting names the engine.
func TestNoEngineAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res := dvp(t, nil, "environment", "list", "-e", "http://"+addr, "-u", "admin")
	for _, want := range []string{"connection refused", "No engine answers at http://" + addr, "dvp engine serve", "-e/--engine", "DVP_ENGINE", "~/.dvp/config"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("no %q in:\n%s", want, res.stderr)
		}
	}
	if res.code != 1 {
		t.Errorf("exit %d", res.code)
	}
}
