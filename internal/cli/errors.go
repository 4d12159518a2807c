package cli

import (
	"errors"
	"fmt"
)

// Exit codes (docs/exit-codes.md lists them; dvp help exit-codes prints it).
const (
	ExitOK       = 0
	ExitUser     = 1 // bad input, failed validation, failed upload
	ExitUsage    = 2 // bad flags or arguments
	ExitInternal = 3 // a bug in dvp
)

// UserError is a problem with the user's input or environment. Its message
// is printed as is, and dvp exits 1.
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

// Userf builds a UserError.
func Userf(format string, args ...any) error { return &UserError{Msg: fmt.Sprintf(format, args...)} }

// UsageError is a bad command line: dvp prints it with a pointer to --help
// and exits 2.
type UsageError struct {
	Msg string
	// Bare errors print without the usage lines, as click prints an error
	// raised outside a parameter (dvp's mutual-exclusion check).
	Bare bool
	// Root errors are about dvp's own options (-v, -q): click shows the
	// group's usage above them.
	Root bool
}

func (e *UsageError) Error() string { return e.Msg }

// Usagef builds a UsageError.
func Usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// SilentError carries an exit code for a failure the command has already
// reported in full (a validation report, say).
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// commandError marks errors returned by a command's own run function, so
// that anything else cobra returns (bad flags, unknown commands, wrong
// argument counts) is known to be a usage error.
type commandError struct{ err error }

func (e *commandError) Error() string { return e.err.Error() }
func (e *commandError) Unwrap() error { return e.err }

// exitCode classifies an error returned by cobra's Execute.
func exitCode(err error) int {
	var (
		ue *UserError
		se *SilentError
		us *UsageError
		ce *commandError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &se):
		return se.Code
	case errors.As(err, &us):
		return ExitUsage
	case errors.As(err, &ue):
		return ExitUser
	case errors.As(err, &ce):
		return ExitInternal
	default:
		return ExitUsage
	}
}
