package store

import (
	"context"
	"fmt"
	"testing"
)

// TestJobKeepsFirstAndLastEvents: past KeepJobEvents' first and last
// events, each new event drops the oldest of the last ones; the events
// kept keep their numbers, so a reader sees where the gap is.
func TestJobKeepsFirstAndLastEvents(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.KeepJobEvents(3, 5)
	ctx := context.Background()
	act := &Action{ActionType: "DB_SYNC", Title: "Sync", Details: "Sync.", State: "RUNNING", UserRef: "USER-1", StartTime: "t"}
	job := &Job{ActionType: "DB_SYNC", Title: "Sync", State: "RUNNING", UserRef: "USER-1", StartTime: "t", UpdateTime: "t"}
	if err := s.InsertActionWithJob(ctx, act, job); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 30; i++ {
		if err := s.AddEvent(ctx, job.ID, "RUNNING", JobEvent{Timestamp: fmt.Sprint(i), MessageCode: "c", Details: fmt.Sprint(i), EventType: "INFO"}); err != nil {
			t.Fatal(err)
		}
	}
	seqs := func(since int) string {
		j, err := s.JobSince(ctx, job.ID, since)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, ev := range j.Events {
			if fmt.Sprint(ev.Seq) != ev.Details {
				t.Errorf("event %q has the number %d", ev.Details, ev.Seq)
			}
			out += fmt.Sprint(ev.Seq) + " "
		}
		if f, l := j.EventsKept(); f != 3 || l != 5 || j.EventsSince != since {
			t.Errorf("EventsKept %d %d, EventsSince %d", f, l, j.EventsSince)
		}
		return out
	}
	for _, c := range []struct {
		since int
		want  string
	}{{0, "1 2 3 26 27 28 29 30 "}, {2, "3 26 27 28 29 30 "}, {10, "26 27 28 29 30 "}, {28, "29 30 "}, {30, ""}} {
		if got := seqs(c.since); got != c.want {
			t.Errorf("since %d: %q, want %q", c.since, got, c.want)
		}
	}
}
