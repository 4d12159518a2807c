package libs

import (
	"errors"
	"fmt"
)

// ErrNoEngine is returned by a library called with a context that does not
// come from the plugin runtime (for example context.Background()).
var ErrNoEngine = errors.New("platform libraries can only be called with the context of a running plugin operation")

// PluginScriptError is returned by RunBash, RunPowershell and RunExpect called
// with Check() when the script exits with a non-zero code. The result is
// returned as well.
type PluginScriptError struct {
	ExitCode int
	Stdout   string
	Stderr   string
}

// Error gives the exit code, stdout and stderr in the platform's wording.
func (e *PluginScriptError) Error() string {
	return fmt.Sprintf("The script failed with exit code %d. stdout : %s and  stderr : %s", e.ExitCode, e.Stdout, e.Stderr)
}

// LibraryError is an error the engine reported while executing a library
// call (for example: the environment is unreachable, or the credentials
// supplier names a vault that does not exist). ID identifies the error.
type LibraryError struct {
	ID      string
	Message string
}

// Error returns the message followed by the id in parentheses.
func (e *LibraryError) Error() string {
	if e.ID == "" {
		return e.Message
	}
	return fmt.Sprintf("%s (%s)", e.Message, e.ID)
}

// ArgumentError is returned, before anything is sent to the engine, for an
// argument the Go types cannot rule out (an empty connection, a variable name
// with "=", a credentials supplier that is not an object, ...).
type ArgumentError struct {
	Function string // run_bash, run_sync, ...
	Argument string // command, variables, ...
	Problem  string
}

// Error names the function, the argument and the problem.
func (e *ArgumentError) Error() string {
	return fmt.Sprintf("The function %s's argument '%s' %s.", e.Function, e.Argument, e.Problem)
}
