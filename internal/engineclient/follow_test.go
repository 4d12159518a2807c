package engineclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// TestFollowJobGoesOnWhereTheEngineSays: a job that dropped events
// (docs/engine.md, "Jobs") answers one event in their place and
// nextEventsSince; FollowJob asks next for the events after that number,
// not after the count it received (which would have read events 4 and 5
// of the 30 again, and shown them twice).
func TestFollowJobGoesOnWhereTheEngineSays(t *testing.T) {
	ev := func(code, details, state string) string {
		s := "null"
		if state != "" {
			s = `"` + state + `"`
		}
		return fmt.Sprintf(`{"type": "JobEvent", "timestamp": "t", "state": %s, "percentComplete": 0, "messageCode": %q, "messageDetails": %q, "eventType": "INFO"}`, s, code, details)
	}
	answers := map[string]string{
		"": `"jobState": "RUNNING", "events": [` + ev("c", "1", "") + `,` + ev("c", "2", "") + `,` +
			ev(engineapi.EventsDroppedCode, "26 events of this job were dropped", "") + `,` + ev("c", "29", "") + `,` + ev("c", "30", "") + `], "nextEventsSince": 30`,
		"eventsSince=30": `"jobState": "COMPLETED", "events": [` + ev("c", "31", "COMPLETED") + `]`,
	}
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.RawQuery)
		mu.Unlock()
		a, ok := answers[r.URL.RawQuery]
		if !ok || !strings.HasSuffix(r.URL.Path, "/delphix/job/JOB-1") {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"type": "ErrorResult", "status": "ERROR", "error": {"type": "APIError", "details": "unexpected request", "id": "x"}}`)
			return
		}
		fmt.Fprintf(w, `{"type": "OKResult", "status": "OK", "result": {"type": "Job", "reference": "JOB-1", "title": "Sync", %s}, "job": null, "action": null}`, a)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	var seen []string
	j, err := c.FollowJob(context.Background(), "JOB-1", 0, func(e engineapi.JobEvent) { seen = append(seen, e.MessageDetails) })
	if err != nil {
		t.Fatalf("FollowJob: %v (asked %q)", err, asked)
	}
	if got := strings.Join(seen, ","); got != "1,2,26 events of this job were dropped,29,30,31" {
		t.Errorf("events seen: %s", got)
	}
	if strings.Join(asked, "|") != "|eventsSince=30" || j.JobState != engineapi.JobCompleted {
		t.Errorf("asked %q; job %s", asked, j.JobState)
	}
}
