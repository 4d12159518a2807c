package dvptest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A spec's command that was stopped says why: Ctrl-C, or its timeout (with
// how to give it more), not the Go context's words.
func TestShellErrorSaysWhyTheCommandStopped(t *testing.T) {
	cause := errors.New("bash was stopped: context canceled")
	what, hint := "the set-up on staging (dvptest.yml:9)", "give the step a longer timeout"

	// Interrupted: the run's context is cancelled.
	parent, stop := context.WithCancel(context.Background())
	own, cancel := context.WithTimeout(parent, time.Hour)
	defer cancel()
	stop()
	got := shellError(what, hint, parent, own, time.Hour, cause).Error()
	if got != "the set-up on staging (dvptest.yml:9) was stopped: dvp test was interrupted" {
		t.Errorf("interrupted: %q", got)
	}

	// Out of time: the command's own deadline passed.
	own2, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	got = shellError(what, hint, context.Background(), own2, 90*time.Second, cause).Error()
	if got != "the set-up on staging (dvptest.yml:9) did not end within 1m30s and was stopped: give the step a longer timeout" {
		t.Errorf("timed out: %q", got)
	}
	if strings.Contains(got, "context") {
		t.Errorf("the Go context's words leak: %q", got)
	}

	// Another failure keeps its own words.
	got = shellError(what, hint, context.Background(), context.Background(), time.Hour, errors.New("the environment staging does not exist on the engine")).Error()
	if got != "the set-up on staging (dvptest.yml:9): the environment staging does not exist on the engine" {
		t.Errorf("other: %q", got)
	}
}
