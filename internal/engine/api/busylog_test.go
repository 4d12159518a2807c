package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Busy refusals are warnings, one per refusal id every busyLogEvery at
// most; the next one logged says how many were not.
func TestBusyLogRateLimited(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	b := newBusyLog(func() time.Time { return now })
	jobs := apiErr(http.StatusServiceUnavailable, "exception.webservices.jobs.busy", "jobs at their bound", "wait")
	uploads := apiErr(http.StatusServiceUnavailable, "exception.upload.busy", "uploads at their bound", "wait")
	for range 1000 {
		b.refused(log, "/p", jobs)
	}
	b.refused(log, "/p", uploads)
	now = now.Add(busyLogEvery - time.Second)
	b.refused(log, "/p", jobs)
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 ||
		!strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "id=exception.webservices.jobs.busy") ||
		!strings.Contains(lines[1], "id=exception.upload.busy") {
		t.Fatalf("1001 refusals of one kind and 1 of another in %s logged:\n%s", busyLogEvery, out.String())
	}
	out.Reset()
	now = now.Add(time.Second)
	b.refused(log, "/p", jobs)
	if l := out.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "not_logged_since=1000") {
		t.Errorf("the next warning, %s after the first: %s", busyLogEvery, l)
	}
}
