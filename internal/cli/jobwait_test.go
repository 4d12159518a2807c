package cli_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// TestEngineGoneWhileFollowingAJob: when the engine stops answering while
// dvp follows a job, dvp exits 1 saying that no engine answers and how to
// find out what became of the job once it is back.
func TestEngineGoneWhileFollowingAJob(t *testing.T) {
	srv, polled := runningSyncEngine(t)
	cmd, out, errb := startDvp(t, "dsource", "sync", "ds", "-e", srv.URL, "-u", "admin", "--password", "pw")
	<-polled
	srv.CloseClientConnections()
	srv.Close()
	code := exitCode(t, cmd.Wait())
	stderr := errb.String()
	want := "The engine stopped answering while dvp followed job JOB-7: once it answers again, 'dvp job show JOB-7' says what became of the job ('dvp job wait JOB-7' follows it).\n"
	if code != 1 || !strings.HasSuffix(stderr, want) || !strings.Contains(stderr, "No engine answers at "+srv.URL) || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1 and stderr ending %q", code, out, stderr, want)
	}
}

// TestSessionLostWhileFollowingAJob: when the engine no longer knows the
// session (it restarted), the 401 is followed by what it means for the
// job and how to find out what became of it.
func TestSessionLostWhileFollowingAJob(t *testing.T) {
	var mu sync.Mutex
	polls := 0
	srv := syncEngine(t, func(w http.ResponseWriter) {
		mu.Lock()
		polls++
		n := polls
		mu.Unlock()
		if n > 1 {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": "The request needs a logged-in session.", "action": "Log in again."}}`)
			return
		}
		io.WriteString(w, runningJob7)
	})
	cmd, out, errb := startDvp(t, "dsource", "sync", "ds", "-e", srv.URL, "-u", "admin", "--password", "pw")
	code := exitCode(t, cmd.Wait())
	stderr := errb.String()
	want := "The engine no longer knows this command's session (it was restarted, or the session expired) while dvp followed job JOB-7: 'dvp job show JOB-7' says what became of the job ('dvp job wait JOB-7' follows it).\n"
	if code != 1 || !strings.HasSuffix(stderr, want) || !strings.Contains(stderr, "API request failed with HTTP Status 401") || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1 and stderr ending %q", code, out, stderr, want)
	}
}

// runningJob7 is the fake engine's answer to a poll of JOB-7: RUNNING.
const runningJob7 = `{"type": "OKResult", "status": "OK", "result": {"type": "Job", "reference": "JOB-7", "jobState": "RUNNING", "events": [
	{"timestamp": "t1", "state": "RUNNING", "messageDetails": "Started."}]}}`

// syncEngine is a fake engine on which a session, a login and dSource ds's
// sync (starting JOB-7) succeed; poll answers each poll of JOB-7.
func syncEngine(t *testing.T, poll func(w http.ResponseWriter)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch strings.TrimPrefix(r.URL.Path, engineapi.APIPrefix) {
		case "delphix/session":
			io.WriteString(w, `{"type": "OKResult", "status": "OK", "result": {"type": "APISession"}}`)
		case "delphix/login":
			io.WriteString(w, `{"type": "OKResult", "status": "OK", "result": "USER-1"}`)
		case "delphix/database/ds/sync":
			io.WriteString(w, `{"type": "OKResult", "status": "OK", "result": "APPDATA_SNAPSHOT-2", "job": "JOB-7", "action": "ACTION-7"}`)
		case "delphix/job/JOB-7":
			poll(w)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// runningSyncEngine is a syncEngine whose JOB-7 stays RUNNING; polled is
// closed at the job's first poll.
func runningSyncEngine(t *testing.T) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	polled := make(chan struct{})
	var once sync.Once
	srv := syncEngine(t, func(w http.ResponseWriter) {
		once.Do(func() { close(polled) })
		io.WriteString(w, runningJob7)
	})
	return srv, polled
}
