package guard

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const uploadPath = "/resources/json/delphix/data/upload"

func newTestGuard(cfg Config) *Guard {
	cfg.MultipartPaths = []string{uploadPath}
	if cfg.Authenticated == nil {
		cfg.Authenticated = func(r *http.Request) bool { return r.Header.Get("Cookie") != "" }
	}
	return New(cfg)
}

// served is a handler that reads the body and answers OK.
var served = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Write([]byte(`{"type":"OKResult"}`))
})

type refused struct {
	code    int
	id      string
	details string
	action  string
	retry   string
}

func serve(g *Guard, r *http.Request) refused {
	w := httptest.NewRecorder()
	g.Wrap(served).ServeHTTP(w, r)
	var env struct {
		Type  string
		Error struct{ ID, Details, Action string }
	}
	json.Unmarshal(w.Body.Bytes(), &env)
	return refused{code: w.Code, id: env.Error.ID, details: env.Error.Details, action: env.Error.Action, retry: w.Header().Get("Retry-After")}
}

func req(method, host, path, ctype string, hdr ...string) *http.Request {
	r := httptest.NewRequest(method, "http://"+host+path, strings.NewReader(`{"type": "APISession"}`))
	r.Host = host
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func TestHostAllowList(t *testing.T) {
	g := newTestGuard(Config{ListenHost: "127.0.0.1", Hostnames: []string{"Dev.Example.COM.", "10.1.2.3"}})
	for host, ok := range map[string]bool{
		"127.0.0.1:8780": true, "127.0.0.1": true, "127.9.9.9:1": true, "localhost:8780": true, "LOCALHOST.:8780": true,
		"[::1]:8780": true, "[::ffff:127.0.0.1]:8780": true,
		"dev.example.com:8780": true, "DEV.example.com": true, "10.1.2.3:8780": true,
		"evil.attacker.example:8780": false, "evil.attacker.example": false, "localhost.evil.example": false,
		"10.1.2.4:8780": false, "192.168.1.1": false, "": false, "example.com@127.0.0.1": false,
	} {
		if got := g.HostAllowed(host); got != ok {
			t.Errorf("HostAllowed(%q) = %v, want %v", host, got, ok)
		}
	}
	any := newTestGuard(Config{ListenHost: "0.0.0.0"})
	if !any.HostAllowed("192.168.1.1:8780") || any.HostAllowed("evil.example:8780") {
		t.Error("an unspecified listen address lets IP addresses through, and only them")
	}
}

func TestRebindingRequestRefused(t *testing.T) {
	g := newTestGuard(Config{ListenHost: "127.0.0.1"})
	got := serve(g, req("POST", "evil.attacker.example:8780", "/resources/json/delphix/session", "application/json"))
	if got.code != 403 || got.id != "exception.webservices.host.refused" ||
		!strings.Contains(got.details, `"evil.attacker.example:8780"`) || !strings.Contains(got.details, "DNS rebinding") ||
		!strings.Contains(got.action, "--hostname") {
		t.Errorf("%+v", got)
	}
	if got := serve(g, req("POST", "127.0.0.1:8780", "/resources/json/delphix/session", "application/json")); got.code != 200 {
		t.Errorf("own host refused: %+v", got)
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	g := newTestGuard(Config{ListenHost: "127.0.0.1"})
	path := "/resources/json/delphix/login"
	for name, c := range map[string]struct {
		hdr  []string
		code int
	}{
		"foreign origin":          {[]string{"Origin", "http://evil.example"}, 403},
		"null origin":             {[]string{"Origin", "null"}, 403},
		"other port":              {[]string{"Origin", "http://127.0.0.1:3000"}, 403},
		"other scheme":            {[]string{"Origin", "https://127.0.0.1:8780"}, 403},
		"cross-site fetch":        {[]string{"Sec-Fetch-Site", "cross-site"}, 403},
		"same-site fetch":         {[]string{"Sec-Fetch-Site", "same-site"}, 403},
		"own origin":              {[]string{"Origin", "http://127.0.0.1:8780"}, 200},
		"own origin, same-origin": {[]string{"Origin", "http://127.0.0.1:8780", "Sec-Fetch-Site", "same-origin"}, 200},
		"no origin (dvp, curl)":   {nil, 200},
	} {
		got := serve(g, req("POST", "127.0.0.1:8780", path, "application/json", c.hdr...))
		if got.code != c.code || c.code == 403 && got.id != "exception.webservices.origin.refused" {
			t.Errorf("%s: %+v", name, got)
		}
	}
	// What a browser sends for a cross-site form or fetch without preflight.
	got := serve(g, req("POST", "127.0.0.1:8780", path, "text/plain;charset=UTF-8", "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"))
	if got.code != 403 || !strings.Contains(got.details, `"http://evil.example"`) {
		t.Errorf("browser-shaped cross-site POST: %+v", got)
	}
}

func TestContentTypeRequired(t *testing.T) {
	g := newTestGuard(Config{ListenHost: "127.0.0.1"})
	login := "/resources/json/delphix/login"
	for _, c := range []struct {
		method, path, ctype string
		code                int
	}{
		// Without a session, the API answers an upload (401): the guard
		// lets it through whatever its content type.
		{"POST", uploadPath, "application/json", 200},
		{"POST", login, "text/plain", 415},
		{"POST", login, "text/plain;charset=UTF-8", 415},
		{"POST", login, "application/x-www-form-urlencoded", 415},
		{"POST", login, "multipart/form-data; boundary=x", 415},
		{"POST", login, "", 415},
		{"POST", "/resources/json/delphix/logout", "", 200}, // an empty body
		{"POST", login, "application/json", 200},
		{"POST", login, "Application/JSON; charset=utf-8", 200},
		{"POST", uploadPath, "application/json", 415},
		{"POST", uploadPath, "text/plain", 415},
		{"POST", uploadPath, "multipart/form-data; boundary=----------boundary------", 200},
		{"GET", "/resources/json/delphix/toolkit", "", 200},
		{"GET", "/resources/json/delphix/data/downloadOutputStream", "application/octet-stream", 200},
	} {
		r := req(c.method, "127.0.0.1:8780", c.path, c.ctype)
		if c.path == "/resources/json/delphix/logout" {
			r = httptest.NewRequest("POST", "http://127.0.0.1:8780"+c.path, nil)
		}
		if c.path == uploadPath && c.code != 200 || c.ctype == "multipart/form-data; boundary=----------boundary------" {
			r.Header.Set("Cookie", "JSESSIONID=1")
		}
		got := serve(g, r)
		if got.code != c.code {
			t.Errorf("%s %s %q: %+v", c.method, c.path, c.ctype, got)
		}
		if c.code == 415 && (got.id != "exception.webservices.unsupported.media.type" || !strings.Contains(got.action, "Content-Type:")) {
			t.Errorf("%s %s %q: %+v", c.method, c.path, c.ctype, got)
		}
	}
}

func TestUnauthenticatedRequestsBounded(t *testing.T) {
	release := make(chan struct{})
	var entered sync.WaitGroup
	entered.Add(2)
	block := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Block") != "" {
			entered.Done()
			<-release
		}
	})
	g := newTestGuard(Config{ListenHost: "127.0.0.1", MaxUnauthenticated: 2, UnauthenticatedWait: time.Millisecond,
		Authenticated: func(r *http.Request) bool { return r.Header.Get("Cookie") != "" }})
	h := g.Wrap(block)
	var done sync.WaitGroup
	for range 2 {
		done.Add(1)
		go func() {
			defer done.Done()
			h.ServeHTTP(httptest.NewRecorder(), req("POST", "127.0.0.1", "/x", "application/json", "X-Block", "1"))
		}()
	}
	entered.Wait()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("POST", "127.0.0.1", "/x", "application/json"))
	if w.Code != 503 || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "--max-unauthenticated") {
		t.Errorf("third unauthenticated request: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req("POST", "127.0.0.1", "/x", "application/json", "Cookie", "JSESSIONID=1"))
	if w.Code != 200 {
		t.Errorf("a logged-in request waited for the unauthenticated ones: %d %s", w.Code, w.Body)
	}
	close(release)
	done.Wait()
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req("POST", "127.0.0.1", "/x", "application/json"))
	if w.Code != 200 {
		t.Errorf("after the others ended: %d %s", w.Code, w.Body)
	}
}

// TestSlowBodyClosed sends a JSON body one byte at a time over a real
// connection, and an upload with a long pause: the server closes both.
// The test's own deadline only guards against a hang.
func TestSlowBodyClosed(t *testing.T) {
	g := newTestGuard(Config{ListenHost: "127.0.0.1", BodyTimeout: 200 * time.Millisecond, UploadIdleTimeout: 200 * time.Millisecond})
	srv := httptest.NewServer(g.Wrap(served))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range []struct{ path, ctype string }{
		{"/resources/json/delphix/session", "application/json"},
		{uploadPath, "multipart/form-data; boundary=b"},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n{", c.path, addr, c.ctype)
		conn.SetDeadline(time.Now().Add(time.Minute))
		// Keep sending a byte now and then (never enough to finish) until
		// the server closes or answers.
		stop := make(chan struct{})
		go func() {
			for i := 0; i < 500; i++ {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := conn.Write([]byte(" ")); err != nil && c.path != uploadPath {
					return
				}
				if c.path == uploadPath {
					return // one pause longer than the idle timeout
				}
			}
		}()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		close(stop)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 400 || resp.Close == false && resp.Header.Get("Connection") != "close" {
				t.Errorf("%s: %d %s", c.path, resp.StatusCode, b)
			}
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("%s: the slow body was not closed", c.path)
		}
		conn.Close()
	}
}

func TestValidHostname(t *testing.T) {
	for _, h := range []string{"dev.example.com", "my-host", "10.0.0.1", "::1", "[::1]", "host."} {
		if err := ValidHostname(h); err != nil {
			t.Errorf("%q: %v", h, err)
		}
	}
	for _, h := range []string{"", "host:8780", "http://host", "a b", "a..b", "évil"} {
		if err := ValidHostname(h); err == nil {
			t.Errorf("%q accepted", h)
		}
	}
}
