package upload

// Fault injection for the client: stalled and slow connections, 5xx
// bursts, a full disk while the logs bundle is written. The same faults
// against the real dvp binary and engine process are in
// internal/engine/e2e/faults_test.go.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/testio"
)

// stallListener accepts connections and never reads nor writes them.
type stallListener struct {
	ln       net.Listener
	accepted atomic.Int32
	mu       sync.Mutex
	conns    []net.Conn
}

func newStallListener(t *testing.T) *stallListener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stallListener{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			c.Close()
		}
	})
	return s
}

// TestFaultStalledEngine: an engine that accepts the connection and then
// says nothing. The idempotent session request is retried, each attempt
// ends after the read timeout, and the failure says what happened.
func TestFaultStalledEngine(t *testing.T) {
	t.Parallel() // each with its own servers: they wait for timeouts, not CPU
	s := newStallListener(t)
	c, _ := newTestClient(t, "http://"+s.ln.Addr().String(), func(o *engineclient.Options) {
		o.ReadTimeout = 300 * time.Millisecond
		o.Retries = 2
		o.Backoff = 10 * time.Millisecond
	})
	start := time.Now()
	_, err := c.Upload(context.Background(), UploadOptions{User: testUser, Password: testPassword, ArtifactPath: writeArtifact(t, enginetest.Options{})})
	d := time.Since(start)
	var ue *engineclient.Error
	if !errors.As(err, &ue) || ue.Kind != engineclient.KindNetwork {
		t.Fatalf("want a network error, got %T %v", err, err)
	}
	if !strings.HasPrefix(err.Error(), "The request to the engine failed.\n") || !strings.Contains(err.Error(), "no progress for 300ms") {
		t.Errorf("unclear message: %q", err)
	}
	// Each attempt ended by the read timeout (the message) and waited for
	// it (a lower bound, which a busy machine cannot break); exactly 3
	// attempts were made (below).
	if d < 900*time.Millisecond {
		t.Errorf("3 attempts of 300ms took %s", d)
	}
	if n := s.accepted.Load(); n != 3 {
		t.Errorf("%d connections, want 3 (the session request and 2 retries)", n)
	}
}

// TestFaultUploadStallsMidBody: the engine reads the first 64 KiB of a
// 16 MiB upload and then stops reading. The client notices that the body
// makes no progress, gives up after the read timeout with a clear error,
// closes the connection (the engine's next read fails), and never sends
// the upload again.
func TestFaultUploadStallsMidBody(t *testing.T) {
	t.Parallel() // each with its own servers: they wait for timeouts, not CPU
	var uploads atomic.Int32
	release := make(chan struct{})
	serverReadErr := make(chan error, 1)
	rec := &recorder{answer: engineScript(uploadOK, nil)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != engineapi.APIPrefix+"delphix/data/upload" {
			rec.ServeHTTP(w, r)
			return
		}
		uploads.Add(1)
		io.CopyN(io.Discard, r.Body, 64<<10)
		<-release
		_, err := io.Copy(io.Discard, r.Body)
		serverReadErr <- err
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, func(o *engineclient.Options) { o.ReadTimeout = 500 * time.Millisecond })
	start := time.Now()
	_, err := c.Upload(context.Background(), UploadOptions{User: testUser, Password: testPassword,
		ArtifactPath: writeArtifact(t, enginetest.Options{Padding: 16 << 20})})
	d := time.Since(start)
	close(release)
	if err == nil || !strings.HasPrefix(err.Error(), "The request to the engine failed.\n") || !strings.Contains(err.Error(), "no progress for 500ms") {
		t.Fatalf("stalled upload: %v", err)
	}
	// The read timeout noticed the stall (the message above), after
	// waiting for it (a lower bound, which a busy machine cannot break).
	if d < 500*time.Millisecond {
		t.Errorf("the stall was noticed after %s", d)
	}
	select {
	case e := <-serverReadErr:
		if e == nil {
			t.Errorf("the engine read the whole body: the client did not stop sending")
		}
	case <-time.After(10 * time.Second):
		t.Errorf("the client did not close the connection")
	}
	if n := uploads.Load(); n != 1 {
		t.Errorf("the upload was sent %d times; an upload is never re-sent", n)
	}
}

// TestFaultNoAnswerAfterUpload: the engine reads the whole upload and
// never answers. The wait for the answer is bounded by the read timeout
// too, and the upload is not re-sent.
func TestFaultNoAnswerAfterUpload(t *testing.T) {
	t.Parallel() // each with its own servers: they wait for timeouts, not CPU
	var uploads atomic.Int32
	release := make(chan struct{})
	rec := &recorder{answer: engineScript(uploadOK, nil)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != engineapi.APIPrefix+"delphix/data/upload" {
			rec.ServeHTTP(w, r)
			return
		}
		uploads.Add(1)
		io.Copy(io.Discard, r.Body)
		<-release
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handler
	c, _ := newTestClient(t, srv.URL, func(o *engineclient.Options) { o.ReadTimeout = 400 * time.Millisecond })
	start := time.Now()
	_, err := c.Upload(context.Background(), UploadOptions{User: testUser, Password: testPassword, ArtifactPath: writeArtifact(t, enginetest.Options{})})
	if err == nil || !strings.HasPrefix(err.Error(), "The request to the engine failed.\n") || !strings.Contains(err.Error(), "no progress for 400ms") {
		t.Fatalf("no answer: %v", err)
	}
	// Ended by the read timeout (the message), after waiting for it (a
	// lower bound, which a busy machine cannot break).
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("took %s", d)
	}
	if n := uploads.Load(); n != 1 {
		t.Errorf("the upload was sent %d times", n)
	}
}

// bundleEngine answers download-logs' requests; the bundle is served by
// serveBundle.
func bundleEngine(t *testing.T, serveBundle func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	list := `{"type": "ListResult", "status": "OK", "result": [{"type": "Toolkit", "reference": "APPDATA_TOOLKIT-1", "identifier": "` + enginetest.DefaultID + `", "namespace": null}], "total": 1, "overflow": false}`
	rec := &recorder{answer: engineScript(uploadOK, nil)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.URL.Path, engineapi.APIPrefix) {
		case "delphix/toolkit":
			io.WriteString(w, list)
		case "delphix/service/support/bundle/generate":
			io.WriteString(w, `{"type": "OKResult", "status": "OK", "result": "c0ffee00-1111-4222-8333-944455556666", "job": null, "action": null}`)
		case "delphix/data/downloadOutputStream":
			serveBundle(w, r)
		default:
			rec.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// clockTimeouts gives the client's read timeouts to clock, a clock the
// test moves: the download's progress and stall are then measured in the
// test's steps, whatever the machine's load.
func clockTimeouts(clock *testio.Clock) func(*engineclient.Options) {
	return func(o *engineclient.Options) {
		o.AfterFunc = func(d time.Duration, f func()) engineclient.Timer { return clock.AfterFunc(d, f) }
	}
}

// waitRead waits until the client read some of what the handler of r
// sent after clock counted n resets (its read timeout restarted), and
// reports whether it did: not when the client gave up (its error says
// why) or read nothing for a minute (an error here).
func waitRead(t *testing.T, clock *testio.Clock, n int, r *http.Request) bool {
	ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
	defer cancel()
	if clock.WaitResets(n, ctx.Done()) {
		return true
	}
	if r.Context().Err() == nil {
		t.Errorf("the client read nothing of what was sent in a minute")
	}
	return false
}

// TestFaultSlowAndStalledDownload: a bundle that trickles in (50 pieces
// of 1 KiB, each received 4/5 of the read timeout after the one before:
// 40 read timeouts in all) is downloaded, because the timeout measures
// the time without progress; a bundle that stops in the middle fails with
// a clear error, only once the read timeout passed without progress, and
// leaves no file. The read timeouts run on a testio.Clock, which moves
// only when the test says (the test moves it once the client has read
// what was sent), so a busy machine cannot stretch a pause between two
// pieces into a stall.
func TestFaultSlowAndStalledDownload(t *testing.T) {
	t.Parallel() // each with its own servers
	const readTimeout = time.Minute
	chunk := strings.Repeat("x", 1024)
	clock := &testio.Clock{}
	slow := bundleEngine(t, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 50; i++ {
			n := clock.Resets()
			io.WriteString(w, chunk)
			w.(http.Flusher).Flush()
			// The client read some of it (its read timeout restarted):
			// the pause that follows is counted from there.
			if !waitRead(t, clock, n, r) {
				return
			}
			clock.Advance(readTimeout * 4 / 5)
		}
	})
	dir := t.TempDir()
	c, _ := newTestClient(t, slow.URL, func(o *engineclient.Options) { o.ReadTimeout = readTimeout }, clockTimeouts(clock))
	path, err := c.DownloadLogs(context.Background(), DownloadLogsOptions{User: testUser, Password: testPassword, PluginID: enginetest.DefaultID, PluginName: "p", Directory: dir})
	if err != nil {
		t.Fatalf("slow download: %v", err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != 50*1024 {
		t.Fatalf("slow download wrote %v %v", st, err)
	}
	if n := clock.Fired(); n != 0 {
		t.Errorf("a read timeout fired %d times in a download that progressed", n)
	}

	release := make(chan struct{})
	defer close(release)
	stalledClock := &testio.Clock{}
	stalledAt := make(chan struct{})
	stalled := bundleEngine(t, func(w http.ResponseWriter, r *http.Request) {
		n := stalledClock.Resets()
		io.WriteString(w, chunk)
		w.(http.Flusher).Flush()
		if waitRead(t, stalledClock, n, r) {
			close(stalledAt)
		}
		<-release
	})
	dir = t.TempDir()
	c, _ = newTestClient(t, stalled.URL, func(o *engineclient.Options) { o.ReadTimeout = readTimeout }, clockTimeouts(stalledClock))
	done := make(chan error, 1)
	go func() {
		_, err := c.DownloadLogs(context.Background(), DownloadLogsOptions{User: testUser, Password: testPassword, PluginID: enginetest.DefaultID, PluginName: "p", Directory: dir})
		done <- err
	}()
	select {
	case <-stalledAt:
	case err := <-done:
		t.Fatalf("the download ended before the bundle stalled: %v", err)
	}
	// Only the read timeout can end this download (the context has no
	// deadline), and only once it passed: half of it without progress
	// fires nothing (every read so far was at the clock's time 0) ...
	stalledClock.Advance(readTimeout / 2)
	if n := stalledClock.Fired(); n != 0 {
		t.Fatalf("a read timeout fired after half of it without progress (%d)", n)
	}
	select {
	case err := <-done:
		t.Fatalf("the stalled download ended before its read timeout: %v", err)
	default:
	}
	// ... the whole of it ends the download.
	stalledClock.Advance(readTimeout)
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the stalled download did not end a minute after the clock passed its read timeout")
	}
	if err == nil || !strings.HasPrefix(err.Error(), "The request to the engine failed.\n") || !strings.Contains(err.Error(), "the engine sent nothing for 1m0s (the read timeout, --read-timeout)") {
		t.Fatalf("stalled download: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a stalled download left %v", ents)
	}
}

// TestFault5xxBursts: a burst of 5xx answers shorter than the retries is
// absorbed for idempotent requests (session, GETs); a longer one fails
// with the engine's status after 1+Retries attempts; login and the upload
// are never re-sent.
func TestFault5xxBursts(t *testing.T) {
	t.Parallel() // each with its own servers: they wait for timeouts, not CPU
	var mu sync.Mutex
	count := map[string]int{}
	burst := map[string]int{ // how many 5xx before the real answer
		"delphix/session":                         2,
		"delphix/action/ACTION-3/getJob":          3,
		"delphix/toolkit/requestUploadToken":      0,
		"delphix/login":                           0,
		"delphix/data/upload":                     0,
		"delphix/toolkit":                         99, // always
		"delphix/service/support/bundle/generate": 0,
	}
	job := `{"type": "OKResult", "status": "OK", "result": {"type": "Job", "jobState": "COMPLETED", "events": []}}`
	rec := &recorder{answer: func(n int, r *http.Request, body []byte) (int, map[string]string, string) {
		p := strings.TrimPrefix(r.URL.Path, engineapi.APIPrefix)
		mu.Lock()
		count[p]++
		k := count[p]
		mu.Unlock()
		if k <= burst[p] {
			if k%2 == 0 {
				return 502, nil, "<html>Bad Gateway</html>"
			}
			return 503, nil, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": "The engine is busy.", "action": "Try later.", "id": "busy", "commandOutput": null, "diagnoses": []}}`
		}
		if p == "delphix/action/ACTION-3/getJob" {
			return 200, nil, job
		}
		return engineScript(uploadJobOK, nil)(n, r, body)
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	_, err := c.Upload(context.Background(), UploadOptions{User: testUser, Password: testPassword, ArtifactPath: writeArtifact(t, enginetest.Options{}),
		Wait: true, WaitOptions: WaitOptions{First: time.Millisecond}})
	if err != nil {
		t.Fatalf("bursts shorter than the retries must be absorbed: %v", err)
	}
	want := map[string]int{"delphix/session": 3, "delphix/login": 1, "delphix/toolkit/requestUploadToken": 1, "delphix/data/upload": 1, "delphix/action/ACTION-3/getJob": 4}
	for p, n := range want {
		if count[p] != n {
			t.Errorf("%s sent %d times, want %d (all: %v)", p, count[p], n, count)
		}
	}

	// A burst longer than the retries: a clear failure after 1+3 attempts.
	_, err = c.DownloadLogs(context.Background(), DownloadLogsOptions{User: testUser, Password: testPassword, PluginID: enginetest.DefaultID, PluginName: "p", Directory: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "HTTP Status 50") {
		t.Fatalf("persistent 5xx: %v", err)
	}
	if count["delphix/toolkit"] != 1+engineclient.DefaultRetries {
		t.Errorf("GET toolkit sent %d times, want %d", count["delphix/toolkit"], 1+engineclient.DefaultRetries)
	}

	// Login and the upload are not idempotent: one 5xx fails them at once.
	for _, p := range []string{"delphix/login", "delphix/data/upload"} {
		mu.Lock()
		for k := range count {
			count[k] = 0
		}
		burst["delphix/session"] = 0
		burst["delphix/login"], burst["delphix/data/upload"] = 0, 0
		burst[p] = 99
		mu.Unlock()
		c, _ := newTestClient(t, srv.URL)
		_, err := c.Upload(context.Background(), UploadOptions{User: testUser, Password: testPassword, ArtifactPath: writeArtifact(t, enginetest.Options{})})
		if err == nil || !strings.Contains(err.Error(), "API request failed with HTTP Status 503\nDetails: The engine is busy.\nAction: Try later.") {
			t.Errorf("%s 503: %v", p, err)
		}
		if count[p] != 1 {
			t.Errorf("%s sent %d times after a 503; it must never be re-sent", p, count[p])
		}
	}
}

// tinyDisk mounts a 1 MiB tmpfs (root only; the test is skipped otherwise).
func tinyDisk(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestFaultDiskFullDuringDownload: the bundle (2 MiB) does not fit on the
// disk: a clear local error, and nothing left in the directory.
func TestFaultDiskFullDuringDownload(t *testing.T) {
	t.Parallel() // each with its own servers: they wait for timeouts, not CPU
	dir := tinyDisk(t)
	srv := bundleEngine(t, func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2<<20)) })
	c, _ := newTestClient(t, srv.URL)
	_, err := c.DownloadLogs(context.Background(), DownloadLogsOptions{User: testUser, Password: testPassword, PluginID: enginetest.DefaultID, PluginName: "p", Directory: dir})
	var ue *engineclient.Error
	if !errors.As(err, &ue) || ue.Kind != engineclient.KindLocal || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "Cannot write the plugin logs to "+dir) {
		t.Fatalf("disk full: %T %v", err, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left %v", ents)
	}
	_ = filepath.Join
}
