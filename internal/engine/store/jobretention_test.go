package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// PruneJobs deletes a pruned job's events and action with it, in writes
// of at most pruneBatch jobs, and leaves the running jobs and each
// target's latest.
func TestPruneJobsDeletesEventsAndActions(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	newJob := func(target, state string) int64 {
		now := FormatTime(at)
		at = at.Add(time.Second)
		a := &Action{ActionType: "T", Title: "t", State: "RUNNING", UserRef: "USER-1", StartTime: now}
		j := &Job{ActionType: "T", Title: "t", Target: Text(target), TargetName: Text(target), State: "RUNNING", UserRef: "USER-1", StartTime: now, UpdateTime: now}
		ev := JobEvent{Timestamp: now, MessageCode: "event.job.started", Details: "d", EventType: "INFO"}
		if err := s.InsertActionWithJob(ctx, a, j, ev, ev, ev); err != nil {
			t.Fatal(err)
		}
		if state != "RUNNING" {
			if err := s.FinishJob(ctx, Finish{JobID: j.ID, ActionID: a.ID, State: state, End: now, Events: []JobEvent{ev}}); err != nil {
				t.Fatal(err)
			}
		}
		return j.ID
	}
	running := newJob("x", "RUNNING")
	for i := range 2*pruneBatch + 10 {
		newJob(fmt.Sprintf("t%d", i%3), "COMPLETED")
	}
	jobs, _, err := s.PruneJobs(ctx, JobRetention{Keep: 5})
	if err != nil {
		t.Fatal(err)
	}
	count := func(q string) (n int) {
		t.Helper()
		if err := s.db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Kept: the newest 5 (t0, t1 and t2's latest among them) and the
	// running job.
	if jobs != 2*pruneBatch+10-5 || count(`SELECT COUNT(*) FROM jobs`) != 6 {
		t.Errorf("pruned %d jobs, %d left; want %d pruned, 6 left", jobs, count(`SELECT COUNT(*) FROM jobs`), 2*pruneBatch+10-5)
	}
	if j, err := s.Job(ctx, running); err != nil || j == nil {
		t.Errorf("the running job: %v %v", j, err)
	}
	if n := count(`SELECT COUNT(*) FROM job_events WHERE job_id NOT IN (SELECT id FROM jobs)`); n != 0 {
		t.Errorf("%d events of pruned jobs left", n)
	}
	if n := count(`SELECT COUNT(*) FROM actions WHERE id NOT IN (SELECT action_id FROM jobs)`); n != 0 {
		t.Errorf("%d actions of pruned jobs left", n)
	}
}
