package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/logging"
)

// newTestManager is a Manager on a store of its own (closed at the test's
// end) whose failed jobs are described as prefix + the error.
func newTestManager(t *testing.T, prefix string) (*store.Store, *Manager) {
	t.Helper()
	st, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := NewManager(Options{Store: st, Redactor: logging.NewRedactor(), Clock: time.Now, Log: slog.New(slog.DiscardHandler), Heartbeat: -1,
		Describe: func(err error) (string, string, string) { return prefix + err.Error(), "", "x" }})
	return st, m
}

// Command output is recorded in order with the other events, each line cut
// at MaxOutputLine bytes (saying how many were left out), at most
// MaxOutputLines lines, then one event says the rest is left out.
func TestOutputIsBoundedAndInOrder(t *testing.T) {
	st, m := newTestManager(t, "")
	ref, _, err := m.Start(Spec{ActionType: "T", Title: "Test"}, func(ctx context.Context, j *Job) error {
		j.Output("cmd", strings.Repeat("é", MaxOutputLine)) // 2 bytes a rune
		j.Info("event.test", "after the long line")
		for i := range MaxOutputLines + 10 {
			j.Output("cmd", fmt.Sprint("line ", i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Wait()
	var id int64
	fmt.Sscanf(ref, "JOB-%d", &id)
	job, err := st.Job(context.Background(), id)
	if err != nil || job == nil {
		t.Fatal(job, err)
	}
	var all []string
	for _, ev := range job.Events {
		all = append(all, ev.Details)
	}
	text := strings.Join(all, "\n")
	long := "cmd: " + strings.Repeat("é", MaxOutputLine/2) + fmt.Sprintf(" [... %d more bytes]", MaxOutputLine)
	if all[1] != long || all[2] != "after the long line" {
		t.Errorf("events 1 and 2:\n%.80q\n%.80q", all[1], all[2])
	}
	if n := strings.Count(text, "cmd: line "); n != MaxOutputLines-1 {
		t.Errorf("%d short lines recorded, want %d", n, MaxOutputLines-1)
	}
	if !strings.Contains(text, fmt.Sprintf("Further command output is left out: a job records at most %d lines.", MaxOutputLines)) ||
		job.State != "COMPLETED" || !strings.HasSuffix(text, "Test: done.") {
		t.Errorf("state %s, events:\n%s", job.State, text[max(0, len(text)-400):])
	}
}

// The engine's graceful stop (Manager.Stop) cancels a running job and a
// queued one: both end CANCELED, not FAILED, their workflows see
// Canceled (so that they put their object back in a defined state), and
// their last events say that the engine stopped. A job canceled by a user
// before the stop keeps saying who canceled it.
func TestStopCancelsJobsSayingTheEngineStopped(t *testing.T) {
	st, m := newTestManager(t, "The engine failed: ")
	started := make(chan struct{}, 3)
	sawCanceled := make(chan bool, 3)
	block := func(ctx context.Context, j *Job) error {
		started <- struct{}{}
		<-ctx.Done()
		sawCanceled <- j.Canceled()
		j.RolledBack("Nothing changed.")
		return context.Cause(ctx)
	}
	running, _, err := m.Start(Spec{ActionType: "T", Title: "Hold", LockKey: "k"}, block)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	queued, _, err := m.Start(Spec{ActionType: "T", Title: "Wait", LockKey: "k"}, block)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; !m.Queued(queued); i++ {
		if i > 2000 {
			t.Fatal("the second job never queued")
		}
		time.Sleep(5 * time.Millisecond)
	}
	user, _, err := m.Start(Spec{ActionType: "T", Title: "User"}, block)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if err := m.Cancel(user, "admin"); err != nil {
		t.Fatal(err)
	}
	m.Stop()
	m.Wait()
	close(sawCanceled)
	for saw := range sawCanceled {
		if !saw {
			t.Error("a workflow stopped by the engine's stop did not see Canceled")
		}
	}
	// The queued job either never ran or ran with its context ended (the
	// slot freed by the first and the stop race).
	for _, c := range []struct{ ref, last string }{
		{running, "Hold: canceled because the engine stopped (a graceful stop of dvp engine serve). Nothing changed."},
		{queued, "Wait: canceled because the engine stopped (a graceful stop of dvp engine serve). "},
		{user, "User: canceled by admin. Nothing changed."},
	} {
		var id int64
		fmt.Sscanf(c.ref, "JOB-%d", &id)
		job, err := st.Job(context.Background(), id)
		if err != nil || job == nil {
			t.Fatal(job, err)
		}
		var all []string
		for _, ev := range job.Events {
			all = append(all, ev.Details)
		}
		if job.State != "CANCELED" || !strings.HasPrefix(all[len(all)-1], c.last) || c.ref != queued && all[len(all)-1] != c.last || strings.Contains(strings.Join(all, "\n"), "The engine failed") {
			t.Errorf("%s: state %s, events:\n%s", c.ref, job.State, strings.Join(all, "\n"))
		}
		if c.ref != user && !strings.Contains(strings.Join(all, "\n"), "the engine is stopping") {
			t.Errorf("%s: no event says the engine is stopping:\n%s", c.ref, strings.Join(all, "\n"))
		}
	}
}
