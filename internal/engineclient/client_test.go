package engineclient

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
)

const sessionOK = `{"type": "OKResult", "status": "OK", "result": {"type": "APISession", "version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}}, "job": null, "action": null}`

func newTestClient(t *testing.T, url string, mod ...func(*Options)) (*Client, error) {
	t.Helper()
	o := Options{Engine: url, Backoff: time.Millisecond, ReadTimeout: 10 * time.Second}
	for _, m := range mod {
		m(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, nil
}

func TestErrorCatalogue(t *testing.T) {
	answers := map[string]struct {
		status int
		body   string
		want   string
	}{
		"login failed": {401, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": "Invalid username or password.", "action": "Try with a different set of credentials.", "id": "exception.webservices.login.failed", "commandOutput": null, "diagnoses": []}}`,
			"API request failed with HTTP Status 401\nDetails: Invalid username or password.\nAction: Try with a different set of credentials."},
		"version": {200, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": "Invalid API version \"2.11.0\".", "action": "Change the API version to one supported by your version of the Delphix Engine. Review the Release Notes for your Delphix Engine version to determine which API version is supported.", "id": "x"}}`,
			"API request failed with HTTP Status 200\nDetails: Invalid API version \"2.11.0\".\nAction: Change the API version to one supported by your version of the Delphix Engine. Review the Release Notes for your Delphix Engine version to determine which API version is supported."},
		"no details": {400, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "id": "x\u00e9"}}`,
			"API request failed with HTTP Status 400\nUnable to parse details of error. Dumping full response: {\n  \"type\": \"APIError\",\n  \"id\": \"x\\u00e9\"\n}"},
		"html":         {403, "<html><body>Forbidden</body></html>", "Received an unexpected error with HTTP Status 403,\nDumping full response:\n<html><body>Forbidden</body></html>"},
		"unknown json": {404, `{"blob": "Unknown", "status": "UNKNOWN"}`, "Received an unexpected error with HTTP Status 404,\nDumping full response:\n{\n  \"blob\": \"Unknown\",\n  \"status\": \"UNKNOWN\"\n}"},
	}
	for name, a := range answers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(a.status)
				io.WriteString(w, a.body)
			}))
			defer srv.Close()
			c, _ := newTestClient(t, srv.URL)
			err := c.Login(context.Background(), artifact.EngineAPIVersion, "u", "p")
			if err == nil || err.Error() != a.want {
				t.Errorf("got %q\nwant %q", err, a.want)
			}
		})
	}
	// Network failure.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, _ := newTestClient(t, url, func(o *Options) { o.Retries = -1 })
	err := c.Login(context.Background(), artifact.EngineAPIVersion, "u", "p")
	if err == nil || !strings.HasPrefix(err.Error(), "The request to the engine failed.\n") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("network: %v", err)
	}
}

func TestParseEngine(t *testing.T) {
	for in, want := range map[string]string{
		"engine.example.com":       "https://engine.example.com",
		"engine:8443":              "https://engine:8443",
		"10.0.0.1":                 "https://10.0.0.1",
		"::1":                      "https://[::1]",
		"[::1]:8780":               "https://[::1]:8780",
		"http://127.0.0.1:8780":    "http://127.0.0.1:8780",
		"https://e.example.com/":   "https://e.example.com",
		"https://e.example.com/x/": "https://e.example.com/x",
	} {
		u, err := ParseEngine(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseEngine(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://x", "http://", "https://user:pw@host", "http://h?x=1", "host:99999", "http://127.0.0.1:0", "h:65536"} {
		if _, err := ParseEngine(bad); err == nil {
			t.Errorf("ParseEngine(%q) accepted", bad)
		}
	}
	for in, want := range map[string]bool{"http://127.0.0.1:1": true, "http://localhost": true, "http://[::1]:2": true, "http://10.1.1.1": false, "http://example.com": false} {
		u, _ := ParseEngine(in)
		if IsLoopback(u) != want {
			t.Errorf("IsLoopback(%s) != %v", in, want)
		}
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, sessionOK) }))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	// A bare host:port means HTTPS; the test CA is unknown.
	c, _ := newTestClient(t, host, func(o *Options) { o.Retries = -1 })
	_, err := c.post(context.Background(), request{path: "delphix/session", body: []byte("{}")})
	if err == nil || !strings.Contains(err.Error(), "--ca-file") {
		t.Errorf("unknown CA: %v", err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	c, _ = newTestClient(t, host, func(o *Options) { o.CAFile = caFile })
	if _, err := c.post(context.Background(), request{path: "delphix/session", body: []byte("{}")}); err != nil {
		t.Errorf("with --ca-file: %v", err)
	}
	c, _ = newTestClient(t, host, func(o *Options) { o.InsecureSkipVerify = true })
	if _, err := c.post(context.Background(), request{path: "delphix/session", body: []byte("{}")}); err != nil {
		t.Errorf("insecure: %v", err)
	}
	// An http server reached with https gets a hint.
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	c, _ = newTestClient(t, strings.TrimPrefix(plain.URL, "http://"), func(o *Options) { o.Retries = -1 })
	_, err = c.post(context.Background(), request{path: "delphix/session", body: []byte("{}")})
	if err == nil || !strings.Contains(err.Error(), "give its address as http://HOST:PORT") {
		t.Errorf("http engine via https: %v", err)
	}
}

func TestReadTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	c, _ := newTestClient(t, srv.URL, func(o *Options) { o.ReadTimeout = 100 * time.Millisecond; o.Retries = -1 })
	start := time.Now()
	_, err := c.post(context.Background(), request{path: "delphix/login", body: []byte("{}")})
	// The read timeout, not anything slower, ended the request: the error
	// says so, and it was waited for (a lower bound, which load cannot break).
	if err == nil || !strings.Contains(err.Error(), "no progress for 100ms") || time.Since(start) < 100*time.Millisecond {
		t.Errorf("read timeout: %v after %s", err, time.Since(start))
	}
}

// A download that starts and then stalls ends after the read timeout with
// an error that says so (not "context canceled"). The timeout is long
// enough for the answer's first bytes to arrive on a loaded machine (the
// read timeout bounds the wait for them too).
func TestStalledDownloadSaysReadTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte("the first bytes"))
		w.(http.Flusher).Flush()
		<-block
	}))
	defer srv.Close()
	defer close(block)
	c, _ := newTestClient(t, srv.URL, func(o *Options) { o.ReadTimeout = time.Second; o.Retries = -1 })
	dl, err := c.Download(context.Background(), "delphix/data/download?token=x")
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	got, err := io.ReadAll(dl)
	var stalled *StalledError
	if !errors.As(err, &stalled) || stalled.After != time.Second {
		t.Fatalf("stalled download: %v (%T)", err, err)
	}
	if string(got) != "the first bytes" || !strings.Contains(err.Error(), "sent nothing for 1s") || strings.Contains(err.Error(), "context canceled") {
		t.Errorf("stalled download: read %q, error %q", got, err)
	}
}

// TestEndlessDownloadBounded: an engine that sends a download without end
// would fill the user's disk; the client stops after MaxDownloadBytes and
// says why, and the server sees it stop reading.
func TestEndlessDownloadBounded(t *testing.T) {
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		chunk := make([]byte, 64<<10)
		for range 1 << 14 { // 1 GiB at most
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, func(o *Options) { o.MaxDownloadBytes = 1 << 20; o.Retries = -1 })
	dl, err := c.Download(context.Background(), "delphix/data/download?token=x")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.Copy(io.Discard, dl)
	dl.Close()
	srv.CloseClientConnections()
	var big *DownloadTooLargeError
	if !errors.As(err, &big) || got != 1<<20+1 || !strings.Contains(err.Error(), "more than 1048576 bytes") {
		t.Errorf("read %d bytes, error %v", got, err)
	}
	if n := sent.Load(); n > 64<<20 {
		t.Errorf("the server sent %d MiB", n>>20)
	}
}
