package engine

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// TestJobEventsBounded: a job that runs without end (the slow plugin's
// sync, its command printing, then waiting) recorded a heartbeat event
// every --job-heartbeat for as long as it ran, and every event was kept:
// one job grew without bound, whatever --keep-jobs said. It now keeps its
// first and its last events; one event stands for those dropped between,
// saying how many, and a client following the job with eventsSince goes
// on where the engine says (nextEventsSince), missing nothing kept and
// receiving nothing twice.
func TestJobEventsBounded(t *testing.T) {
	const first, last = 5, 10
	te, c, src := slowSetup(t, func(c *Config) {
		c.JobHeartbeat = 5 * time.Millisecond
		c.JobEventsFirst, c.JobEventsLast = first, last
	})
	mnt := filepath.Join(t.TempDir(), "mnt")
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": src, "parameters": map[string]any{"mountLocation": mnt}}))
	os.WriteFile(filepath.Join(src, "lines"), []byte("300\n"), 0o644)
	os.WriteFile(filepath.Join(src, "hang"), nil, 0o644)
	ref := *c.call("POST", "delphix/database/ds/sync", map[string]any{}).Job

	droppedRE := regexp.MustCompile(`^(\d+) events of this job were dropped \(they came (between .+ and .+|before .+)\): a job keeps its first 5 and its last 10 events\.$`)
	dropped := func(j engineapi.Job) (n int, at int) {
		for i, ev := range j.Events {
			if ev.MessageCode == engineapi.EventsDroppedCode {
				m := droppedRE.FindStringSubmatch(ev.MessageDetails)
				if m == nil || ev.EventType != "WARNING" {
					t.Fatalf("the dropped events' event: %+v", ev)
				}
				n, _ = strconv.Atoi(m[1])
				return n, i
			}
		}
		return 0, -1
	}
	// A follower, as dvp job wait follows: it asks for the events after
	// those it has, going on where the engine says.
	var followed []engineapi.JobEvent
	since := 0
	follow := func() {
		j := c.job(ref, since)
		since += len(j.Events)
		if j.NextEventsSince > 0 {
			since = j.NextEventsSince
		}
		followed = append(followed, j.Events...)
	}
	follow()
	c.waitFor(ref, "dropped 300 events", func(j engineapi.Job) bool {
		n, _ := dropped(j)
		return n >= 300 && j.JobState == "RUNNING"
	})
	follow()
	running := c.job(ref, 0)
	if len(running.Events) != first+1+last {
		t.Errorf("a running job with many events answers %d, want its first %d, the dropped ones' and its last %d:\n%s", len(running.Events), first, last, eventText(running))
	}
	if running.Events[0].MessageCode != "event.job.started" {
		t.Errorf("the first event kept is %q", running.Events[0].MessageCode)
	}
	if _, at := dropped(running); at != first {
		t.Errorf("the dropped events' event is at %d, want %d", at, first)
	}
	if running.NextEventsSince <= first+last {
		t.Errorf("nextEventsSince %d, want the number of the last event", running.NextEventsSince)
	}

	// The store holds no more than that.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(te.dir, store.DBFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRow(`SELECT COUNT(*) FROM job_events WHERE job_id = ?`, jobNumber(t, ref)).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows > first+last {
		t.Errorf("the store holds %d events of the job, want at most %d", rows, first+last)
	}

	if env := c.call("POST", "delphix/job/"+ref+"/cancel", nil); env.Type != "OKResult" {
		t.Fatalf("cancel: %+v", env)
	}
	done := c.waitFor(ref, "ended", func(j engineapi.Job) bool { return j.JobState != "RUNNING" })
	follow()
	if n := len(done.Events); n != first+1+last {
		t.Errorf("the ended job answers %d events, want %d", n, first+1+last)
	}
	lastEv := done.Events[len(done.Events)-1]
	if done.JobState != engineapi.JobCanceled || lastEv.State == nil || *lastEv.State != "CANCELED" {
		t.Errorf("the last event kept is not the end: %s %+v", done.JobState, lastEv)
	}
	// The follower has the first events, markers where it fell behind,
	// and the end; no event twice.
	seen := map[string]bool{}
	for _, ev := range followed {
		if ev.MessageCode == engineapi.EventsDroppedCode {
			continue
		}
		k := ev.Timestamp + "|" + ev.MessageDetails
		if seen[k] && ev.MessageCode != "event.job.heartbeat" {
			t.Errorf("the follower received %q twice", ev.MessageDetails)
		}
		seen[k] = true
	}
	if followed[0].MessageCode != "event.job.started" || followed[len(followed)-1].State == nil {
		t.Errorf("the follower's events run from %q to %+v", followed[0].MessageCode, followed[len(followed)-1])
	}

	// A cursor inside the dropped range: the event standing for the
	// dropped events after it, then the last ones.
	n, _ := dropped(done)
	mid := c.job(ref, first+2)
	if m, at := dropped(mid); at != 0 || m != n-2 || len(mid.Events) != 1+last {
		t.Errorf("eventsSince=%d: %d dropped at %d, %d events; want %d at 0 and %d events", first+2, m, at, len(mid.Events), n-2, 1+last)
	}
	if !strings.HasPrefix(mid.Events[0].MessageDetails, fmt.Sprintf("%d events of this job were dropped (they came before ", n-2)) {
		t.Errorf("the dropped events' event: %q", mid.Events[0].MessageDetails)
	}
	// Past the last: nothing, and no cursor to follow.
	if end := c.job(ref, done.NextEventsSince); len(end.Events) != 0 || end.NextEventsSince != 0 {
		t.Errorf("eventsSince=%d: %d events, next %d", done.NextEventsSince, len(end.Events), end.NextEventsSince)
	}
	if one := c.job(ref, done.NextEventsSince-1); len(one.Events) != 1 || one.NextEventsSince != 0 || one.Events[0].State == nil {
		t.Errorf("the last event alone: %+v", one)
	}
}

func jobNumber(t *testing.T, ref string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimPrefix(ref, "JOB-"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
