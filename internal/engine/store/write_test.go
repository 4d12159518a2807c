package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

func spoolOf(t *testing.T, s *Store, content string) *Spool {
	t.Helper()
	sp, err := s.NewSpool("source")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	return sp // Install syncs it
}

func row(id string) InstallDecision {
	return func(*Toolkit) (*Toolkit, error) {
		return &Toolkit{PluginID: id, Name: id, BuildNumber: "1", ArtifactJSON: "{}", Installed: "t", Updated: "t"}, nil
	}
}

// TestInstallsShareCommitsAndKeepBlobs installs plugins concurrently
// (their transactions shared: fewer commits than installations), refuses
// some whose code another installation uses, and checks that every
// installed row has its blob and that the blob of a refused installation
// alone is removed.
func TestInstallsShareCommitsAndKeepBlobs(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	refused := errors.New("refused")
	const n = 24
	before := s.Commits()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Every fourth refused, with the same code as an accepted one.
			decide := row(fmt.Sprintf("p%d", i))
			if i%4 == 3 {
				decide = func(*Toolkit) (*Toolkit, error) { return nil, refused }
			}
			if _, err := s.Install(ctx, fmt.Sprintf("p%d", i), spoolOf(t, s, fmt.Sprintf("code %d", i/2)), decide, nil); err != nil && !errors.Is(err, refused) {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	commits := s.Commits() - before
	t.Logf("%d installations, %d commits", n, commits)
	if commits > n {
		t.Errorf("%d commits for %d installations", commits, n)
	}
	rows, err := s.Toolkits(ctx)
	if err != nil || len(rows) != n-n/4 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		p, _ := s.BlobPath(r.SourceSHA256)
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s has no blob: %v", r.PluginID, err)
		}
	}
	// A refused installation of code nobody else has leaves no blob.
	sp := spoolOf(t, s, "code nobody has")
	sum := sp.Sum()
	if _, err := s.Install(ctx, "alone", sp, func(*Toolkit) (*Toolkit, error) { return nil, refused }, nil); !errors.Is(err, refused) {
		t.Fatalf("refused install: %v", err)
	}
	if p, _ := s.BlobPath(sum); fileExists(p) {
		t.Errorf("the refused installation's blob %s is left", sum)
	}
	if entries, _ := os.ReadDir(s.dir + "/" + TmpDir); len(entries) != 0 {
		t.Errorf("spool files left: %v", entries)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestEventsSinceAfterUpgrade reads a job's events after the first N, in
// a database whose events an older engine wrote without their number:
// reopening numbers them in the order they were written, and new events
// go on from there.
func TestEventsSinceAfterUpgrade(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	jobs := make([]*Job, 2)
	for k := range jobs {
		act := &Action{ActionType: "X", Title: "x", Details: "x", State: "RUNNING", UserRef: "USER-1", StartTime: "t"}
		jobs[k] = &Job{ActionType: "X", Title: "x", State: "RUNNING", UserRef: "USER-1", StartTime: "t", UpdateTime: "t"}
		if err := s.InsertActionWithJob(ctx, act, jobs[k]); err != nil {
			t.Fatal(err)
		}
	}
	add := func(j *Job, i int) {
		if err := s.AddEvent(ctx, j.ID, "RUNNING", JobEvent{Timestamp: "t", MessageCode: fmt.Sprintf("e%d", i), EventType: "INFO"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 5; i++ { // the two jobs' events interleaved
		add(jobs[0], i)
		add(jobs[1], i)
	}
	if _, err := s.db.Exec(`UPDATE job_events SET seq = NULL`); err != nil { // as an older engine left them
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	add(jobs[0], 6)
	codes := func(since int) string {
		j, err := s.JobSince(ctx, jobs[0].ID, since)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range j.Events {
			out = append(out, ev.MessageCode)
		}
		return fmt.Sprint(out)
	}
	for since, want := range map[int]string{0: "[e1 e2 e3 e4 e5 e6]", 2: "[e3 e4 e5 e6]", 5: "[e6]", 6: "[]", 9: "[]"} {
		if got := codes(since); got != want {
			t.Errorf("events since %d: %s, want %s", since, got, want)
		}
	}
}

// TestJobsPage pages through the jobs a filter selects.
func TestJobsPage(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for k := 0; k < 7; k++ {
		state := "RUNNING"
		if k%2 == 1 {
			state = "COMPLETED"
		}
		act := &Action{ActionType: "X", Title: "x", Details: "x", State: state, UserRef: "USER-1", StartTime: "t"}
		j := &Job{ActionType: "X", Title: fmt.Sprint(k), State: state, UserRef: "USER-1", StartTime: "t", UpdateTime: "t"}
		if err := s.InsertActionWithJob(ctx, act, j); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		f     JobFilter
		p     Page
		want  string
		total int
	}{
		{JobFilter{}, All, "[0 1 2 3 4 5 6]", 7},
		{JobFilter{}, Page{Offset: 5, Limit: 5}, "[5 6]", 7},
		{JobFilter{}, Page{Offset: 0, Limit: 3}, "[0 1 2]", 7},
		{JobFilter{State: "RUNNING"}, Page{Offset: 2, Limit: 1}, "[4]", 4},
		{JobFilter{State: "COMPLETED"}, Page{Offset: 9, Limit: 5}, "[]", 3},
	} {
		js, total, err := s.JobsPage(ctx, tc.f, tc.p)
		var titles []string
		for _, j := range js {
			titles = append(titles, j.Title)
		}
		if err != nil || fmt.Sprint(titles) != tc.want || total != tc.total {
			t.Errorf("%+v %+v: %v of %d (%v), want %s of %d", tc.f, tc.p, titles, total, err, tc.want, tc.total)
		}
	}
}
