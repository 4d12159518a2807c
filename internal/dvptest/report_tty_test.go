package dvptest

import (
	"strings"
	"testing"
	"time"
)

// On a terminal the running step is drawn on a cleared line, so a shorter
// step name does not leave the end of a longer one behind; off a terminal
// nothing but the result lines is printed.
func TestTextPrinterRunningLine(t *testing.T) {
	var b strings.Builder
	p := &TextPrinter{W: &b, TTY: true}
	p.Phase("set up environments and source configs")
	p.StepStart(&StepResult{Index: 1, Name: "link ds1"})
	if want := "\r\033[K  ...   set up environments and source configs\r\r\033[K  ...   1 link ds1\r"; b.String() != want {
		t.Errorf("terminal: %q, want %q", b.String(), want)
	}
	b.Reset()
	p = &TextPrinter{W: &b}
	p.StepStart(&StepResult{Index: 1, Name: "link ds1"})
	p.StepDone(&StepResult{Index: 1, Name: "link ds1", Status: StatusPassed, Duration: time.Second})
	if got := b.String(); strings.ContainsAny(got, "\r\033") || !strings.HasPrefix(got, "  ok    1 link ds1") {
		t.Errorf("pipe: %q", got)
	}
}
