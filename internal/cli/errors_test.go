package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestExitCodes(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{&commandError{err: Userf("bad input")}, ExitUser},
		{&commandError{err: Usagef("bad flag")}, ExitUsage},
		{&commandError{err: &SilentError{Code: ExitUser}}, ExitUser},
		{&commandError{err: errors.New("a bug")}, ExitInternal},
		{&commandError{err: fmt.Errorf("wrapped: %w", Userf("x"))}, ExitUser},
		{errors.New(`unknown command "x" for "dvp"`), ExitUsage}, // cobra's own errors
	}
	for _, c := range cases {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

// TestInternalErrorsAreOneLine runs a command that fails with an unexpected
// error and one that panics: both exit 3 with a single line, no stack trace.
func TestInternalErrorsAreOneLine(t *testing.T) {
	for name, run := range map[string]func(*cobra.Command, []string) error{
		"error": func(*cobra.Command, []string) error { return errors.New("disk on fire\nsecond line") },
		"panic": func(*cobra.Command, []string) error { panic("boom") },
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			app := &App{IO: IO{Out: &out, Err: &errOut, Home: t.TempDir()}, Version: "test",
				ExtraCommands: []*cobra.Command{{Use: "explode", RunE: runE(run)}}}
			code := app.Run(context.Background(), []string{"explode"})
			if code != ExitInternal {
				t.Fatalf("exit %d, want %d", code, ExitInternal)
			}
			msg := errOut.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "Internal error: ") || strings.Contains(msg, "goroutine") {
				t.Errorf("want one line without a stack trace, got %q", msg)
			}
			if !strings.Contains(msg, "debug.log") {
				t.Errorf("the message should point at the debug log: %q", msg)
			}
		})
	}
}
