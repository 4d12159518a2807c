package upload

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// TestWaitSeenEventsBounded: upload --wait logs each new event of the
// job once, and the engine sends the whole list at each poll; Wait kept
// the timestamp and code of every event it logged, and an engine that
// sent new events at every poll for the hour Wait may last grew it
// without bound. It now skips the events it has handled by their place
// in the list and remembers at most 100,000 hashes.
func TestWaitSeenEventsBounded(t *testing.T) {
	const perPoll, polls = 40_000, 3
	var list strings.Builder
	n, sent := 0, 0
	rec := &recorder{answer: engineScript(uploadJobOK, func(_ int, r *http.Request) (int, string) {
		if r.URL.Path != engineapi.APIPrefix+"delphix/action/ACTION-3/getJob" {
			return 404, "{}"
		}
		n++
		for i := range perPoll {
			if sent > 0 {
				list.WriteString(", ")
			}
			fmt.Fprintf(&list, `{"type": "JobEvent", "timestamp": "t%d-%d", "messageCode": "c", "messageDetails": "d", "messageAction": null}`, n, i)
			sent++
		}
		state := "RUNNING"
		if n == polls {
			state = "COMPLETED"
		}
		return 200, `{"type": "OKResult", "status": "OK", "result": {"type": "Job", "jobState": "` + state + `", "events": [` + list.String() + `]}}`
	})}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, logs := newTestClient(t, srv.URL)
	res, err := c.Upload(context.Background(), UploadOptions{User: testUser, Password: testPassword, ArtifactPath: writeArtifact(t, enginetest.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	seen := &seenEvents{}
	for range polls {
		if _, err := c.pollState(context.Background(), res, seen, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Count(logs.String(), "Timestamp: "); got != perPoll*polls {
		t.Errorf("%d events logged, want each of the %d once", got, perPoll*polls)
	}
	if len(seen.keys) > maxSeenEvents {
		t.Errorf("%d events remembered", len(seen.keys))
	}
	// An event with the timestamp and code of one logged is not logged
	// again (as dvp does).
	s := &seenEvents{}
	ev := engineapi.JobEvent{Timestamp: "t", MessageCode: "c"}
	if !s.first(0, ev) || s.first(1, ev) || s.first(0, engineapi.JobEvent{Timestamp: "u"}) {
		t.Errorf("first: %+v", s)
	}
}
