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

// Command output is recorded in order with the other events, each line cut
// at MaxOutputLine bytes (saying how many were left out), at most
// MaxOutputLines lines, then one event says the rest is left out.
func TestOutputIsBoundedAndInOrder(t *testing.T) {
	st, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := NewManager(Options{Store: st, Redactor: logging.NewRedactor(), Clock: time.Now, Log: slog.New(slog.DiscardHandler), Heartbeat: -1,
		Describe: func(err error) (string, string, string) { return err.Error(), "", "x" }})
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
