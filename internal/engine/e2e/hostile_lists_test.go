//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// TestHostileEngineEndlessList: dvp reads a list a page at a time while
// the engine says more follow (overflow), and an engine that always said
// so, with a total as large as it pleased, was read without end, every
// page kept: dvp environment list grew by each page until the machine ran
// out of memory. A list now holds at most 1,000,000 items and 256 MiB of
// answers; beyond, dvp stops reading it, saying why. The test engine ends
// its list after 600 pages of 1 MiB, so that a dvp without the bound ends.
func TestHostileEngineEndlessList(t *testing.T) {
	var pages atomic.Int32
	name := strings.Repeat("n", 10<<10)
	srv := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/resources/json/delphix/environment" {
			http.NotFound(w, r)
			return
		}
		n := pages.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get("pageOffset"))
		size, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
		var b strings.Builder
		b.WriteString(`{"type": "ListResult", "status": "OK", "result": [`)
		for i := range max(size, 100) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `{"type": "UnixHostEnvironment", "reference": "UNIX_HOST_ENVIRONMENT-%d", "name": "%s%d-%d"}`, i, name, page, i)
		}
		fmt.Fprintf(&b, `], "total": 1099511627776, "overflow": %v}`, n < 600)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(b.String()))
	})
	res := dvp(t, nil, "environment", "list", "-e", srv.URL, "-u", "admin")
	const says = "dvp stopped reading it"
	if res.code != 1 || !strings.Contains(res.stderr, says) || !strings.Contains(res.stderr, "/resources/json/delphix/environment") {
		t.Errorf("exit %d, want 1 and a refusal saying %q\n%.2000s", res.code, says, res.stderr)
	}
	if n := pages.Load(); n > 300 {
		t.Errorf("dvp read %d pages of 1 MiB of one list (256 MiB is its bound)", n)
	}
	assertNoControlBytes(t, "stderr", res.stderr)
}

// TestHostileEngineEndlessJob: dvp follows a job by asking for the events
// it has not seen, and kept every one it was sent, to print the whole job
// (-o json) at the end: an engine that sent 15 MiB of new events at each
// poll of a job that went on running grew dvp job wait by each answer, to
// 7.5 GB in 40 polls (the engine's own jobs keep a bounded number). dvp now keeps the first
// and the last events (5,000 or 32 MiB of each), and says how many it left
// out between. The test engine sends 8 MiB at each poll and ends the job after 20.
func TestHostileEngineEndlessJob(t *testing.T) {
	var polls atomic.Int32
	event := `{"type": "JobEvent", "timestamp": "2026-12-07T10:00:00.000Z", "messageCode": "event.x", "messageDetails": "%d-%d", "eventType": "INFO"}`
	srv := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/resources/json/delphix/job/JOB-1" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		state := "RUNNING"
		if r.URL.Query().Get("eventsSince") == "1073741824" { // dvp job wait's first look: no events
			fmt.Fprintf(w, `{"type": "OKResult", "status": "OK", "result": {"type": "Job", "reference": "JOB-1", "actionType": "DB_REFRESH", "title": "t", "jobState": %q, "parentAction": "ACTION-1", "events": []}}`, state)
			return
		}
		n := polls.Add(1)
		if n >= 20 {
			state = "COMPLETED"
		}
		var b strings.Builder
		fmt.Fprintf(&b, `{"type": "OKResult", "status": "OK", "result": {"type": "Job", "reference": "JOB-1", "actionType": "DB_REFRESH", "title": "t", "jobState": %q, "parentAction": "ACTION-1", "events": [`, state)
		for i := 0; b.Len() < 8<<20; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, event, n, i)
		}
		b.WriteString(`]}}`)
		w.Write([]byte(b.String()))
	})
	res := dvpRSS(t, "job", "wait", "JOB-1", "-q", "-o", "json", "-e", srv.URL, "-u", "admin")
	t.Logf("%d polls; dvp's peak RSS %d MiB", polls.Load(), res.maxRSSKiB>>10)
	if res.code != 0 {
		t.Errorf("exit %d\n%.2000s", res.code, res.stderr)
	}
	const says = "events in between are left out"
	if !strings.Contains(res.stdout, says) || !strings.Contains(res.stdout, `"20-`) || !strings.Contains(res.stdout, `"1-0"`) {
		t.Errorf("the job's report has not the first and the last events and no %q:\n%.1000s ... %.1000s", says, res.stdout, res.stdout[max(0, len(res.stdout)-1000):])
	}
	if res.maxRSSKiB > 400<<10 {
		t.Errorf("dvp's peak RSS was %d MiB following a job whose engine sent 160 MiB of events", res.maxRSSKiB>>10)
	}
}
