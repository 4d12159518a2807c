package dvptest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A scenario a signal stopped is counted as interrupted, not as failed,
// in the report (and so in -o json's "failed").
func TestInterruptedScenarioIsNotAFailure(t *testing.T) {
	r := &Report{Interrupted: true, Scenarios: []*ScenarioResult{
		{Name: "a", Status: StatusPassed},
		{Name: "b", Status: StatusInterrupted, Steps: []*StepResult{{Index: 1, Name: "sync ds1", Status: StatusInterrupted, Message: errInterrupted.Error()}}},
		{Name: "c", Status: StatusSkipped},
	}}
	r.count()
	if r.Passed != 1 || r.Failed != 0 || r.Skipped != 1 || r.InterruptedScenarios() != 1 {
		t.Errorf("passed %d, failed %d, skipped %d, interrupted %d; want 1, 0, 1, 1", r.Passed, r.Failed, r.Skipped, r.InterruptedScenarios())
	}
	if r.OK() {
		t.Error("an interrupted run is OK")
	}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"failed": 0,`) || !strings.Contains(b.String(), `"interrupted": true,`) {
		t.Errorf("JSON report:\n%s", b.String())
	}
	if strings.Contains(errInterrupted.Error(), "context") {
		t.Errorf("the step's message speaks of a context: %q", errInterrupted)
	}
}

// A phase (build, engine, upload) that ended because the run was
// interrupted is marked INT with what happened, never FAIL with "context
// canceled".
func TestInterruptedPhaseIsNotAFailure(t *testing.T) {
	var b bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	p := interruptPrinter{&TextPrinter{W: &b}, ctx}
	p.PhaseDone("build", time.Second, errors.New("exit status 1"))
	cancel()
	p.PhaseDone("build", time.Second, context.Canceled)
	want := "  FAIL  build                                    1s\n        exit status 1\n" +
		"  INT   build                                    1s\n        interrupted: dvp test was stopped (Ctrl-C, SIGTERM or SIGHUP)\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
