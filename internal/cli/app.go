// Package cli is dvp's command layer: one file per command (build.go,
// upload.go, dsource.go, ...), each turning flags into an options struct
// and calling a plain function that does the work. No logic of the product
// lives here. What the commands share:
//
//	app.go         App: the I/O, logger, engine-client factory and prompter
//	               a command gets; Run, which turns an error into an exit code
//	signals.go     Main: Ctrl-C, SIGTERM and SIGHUP, and what an interrupted
//	               command leaves
//	root.go        the command tree (NewRootCmd); groups.go adds a group's
//	               commands only when the command line can reach them
//	errors.go      user, usage and internal errors and their exit codes;
//	               usage.go words usage errors ("did you mean")
//	connection.go  the engine connection flags and settings, the client
//	objects.go     what the engine-object commands share: login, jobs
//	               followed and lists printed (objectRunE, printJob, printList)
//	output.go      what goes to stdout at which -q level, --output json
//	progress.go    the progress line on a terminal
//	project.go     finding plugin_config.yml
//	policy.go      the policy flags; update.go the update commands
//	help.go        dvp help and its topics; completion.go shell completion;
//	               flags.go checks shared by several commands' flags
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/logging"
	"github.com/dvpkit/dvp/internal/termsafe"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// IO is what a command may read and write. Tests inject buffers.
type IO struct {
	In  io.Reader
	Out io.Writer // results
	Err io.Writer // logs, progress, errors
	// Home is the user's home directory (for ~/.dvp); "" disables the
	// config file and the debug log.
	Home string
	// Getwd returns the working directory.
	Getwd func() (string, error)
	// Getenv reads the environment (nil: an empty one).
	Getenv func(string) string
	// StdinIsTerminal and StderrIsTerminal gate prompts and progress bars;
	// StdoutIsTerminal the header rows of lists.
	StdinIsTerminal, StderrIsTerminal, StdoutIsTerminal bool
}

// Env reads the variable key through Getenv ("" when Getenv is nil).
func (io IO) Env(key string) string {
	if io.Getenv == nil {
		return ""
	}
	return io.Getenv(key)
}

// SystemIO is the IO of the running process.
func SystemIO() IO {
	home, _ := os.UserHomeDir()
	return IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Home: home, Getwd: os.Getwd, Getenv: os.Getenv,
		StdinIsTerminal:  isTerminal(os.Stdin),
		StderrIsTerminal: isTerminal(os.Stderr),
		StdoutIsTerminal: isTerminal(os.Stdout),
	}
}

// isTerminal asks the terminal driver, since a character device such as
// /dev/null is not a terminal.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// App is the state shared by all commands of one invocation, and what they
// get from outside: their I/O, their engine client and their prompter.
type App struct {
	IO       IO
	Log      *slog.Logger
	Redactor *logging.Redactor
	Verbose  int
	Quiet    int
	Version  string
	Args     []string // the command line, for checks that depend on flag order

	// NewEngineClient makes the engine client of a command; nil is
	// engineclient.New. Tests inject one that talks to a fake engine.
	NewEngineClient func(engineclient.Options) (*engineclient.Client, error)
	// Prompter asks for a password; nil is a no-echo prompt on the
	// terminal of IO.
	Prompter Prompter
	// EngineBcryptCost is the bcrypt cost of the passwords of dvp engine
	// serve; 0 is bcrypt.DefaultCost. Tests that log in to an engine for
	// every command they run use bcrypt.MinCost.
	EngineBcryptCost int
	// ExtraCommands are added to the command tree (tests add commands that
	// fail in the ways they check).
	ExtraCommands []*cobra.Command

	debugLog  *logging.RotatingFile
	interrupt interruptState
	// cancel cancels the command's context (set by Main); sigs receives
	// the signals once catchInterrupts has started catching them.
	cancel context.CancelFunc
	sigs   chan os.Signal
	// lazyGroups: the command tree is built for Args only (addGroupCommands).
	lazyGroups bool
}

// EngineClient makes the engine client of a command (NewEngineClient).
func (a *App) EngineClient(o engineclient.Options) (*engineclient.Client, error) {
	if a.NewEngineClient != nil {
		return a.NewEngineClient(o)
	}
	return engineclient.New(o)
}

func (a *App) prompter() Prompter {
	if a.Prompter != nil {
		return a.Prompter
	}
	return terminalPrompter{io: a.IO}
}

// Run executes dvp with args and returns the process exit code. It never
// panics: a panic in a command is an internal error (exit 3), reported in
// one line with the stack trace only in the debug log.
func Run(ctx context.Context, args []string, stdio IO, version string) int {
	return (&App{IO: stdio, Version: version}).Run(ctx, args)
}

// Run executes dvp with args in the App and returns the process exit code
// (see the function Run).
func (app *App) Run(ctx context.Context, args []string) (code int) {
	stdio := app.IO
	if app.Redactor == nil {
		app.Redactor = logging.NewRedactor()
	}
	app.Args = args
	app.Log = logging.New(logging.Options{Console: stdio.Err, ConsoleLevel: logging.ConsoleLevel(0, 0), Redactor: app.Redactor})
	app.openDebugLog()
	defer app.closeDebugLog()

	defer func() {
		if r := recover(); r != nil {
			app.Log.Debug("panic", "value", fmt.Sprint(r), "stack", string(debug.Stack()))
			fmt.Fprintf(stdio.Err, "Internal error: %s. This is a bug in dvp; please report it%s.\n",
				termsafe.String(oneLine(fmt.Sprint(r))), app.debugLogHint())
			code = ExitInternal
		}
	}()

	app.lazyGroups = true
	root := NewRootCmd(app)
	root.SetArgs(args)
	registerSecretArgs(app.Redactor, args)
	registerSecretEnv(app.Redactor, app.IO.Getenv)
	app.Log.Debug("dvp started", "version", app.Version, "args", strings.Join(loggedArgs(args), " "))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		err = unknownCommandBehindHelp(cmd, args)
	}
	code = exitCode(err)
	if app.interrupt.signal() != nil {
		// The command stopped because of the signal: say what it left,
		// not how it stopped. One that ended its work all the same (it
		// had nothing to wait for) ends so too: a script sees the
		// signal's code after every command it interrupted.
		if err != nil {
			app.Log.Debug("interrupted", "error", err.Error())
		}
		code = app.interrupt.code()
		app.interrupt.awaitForce()
		fmt.Fprintln(stdio.Err, app.interruptLine())
		app.Log.Debug("dvp finished", "exit", code)
		return code
	}
	switch code {
	case ExitOK:
	case ExitUsage:
		app.printUsageError(root, cmd, err)
	case ExitInternal:
		app.Log.Debug("internal error", "error", err.Error())
		fmt.Fprintf(stdio.Err, "Internal error: %s. This is a bug in dvp; please report it%s.\n",
			termsafe.String(oneLine(app.Redactor.Redact(err.Error()))), app.debugLogHint())
	default:
		var silent *SilentError
		if !errors.As(err, &silent) {
			app.Log.Error(err.Error())
		}
	}
	// Last: at -vv this line follows the error the command ended with.
	app.Log.Debug("dvp finished", "exit", code)
	return code
}

// printUsageError prints the usage error err of cmd (nil: the root) on
// stderr whatever -q says, in click's layout, as dvp prints them
// (docs/compatibility.md, "The command line"): the usage line, how to get
// help and the error; an unknown command of the root with "did you mean".
func (app *App) printUsageError(root, cmd *cobra.Command, err error) {
	var silent *SilentError
	if errors.As(err, &silent) {
		return // reported in full by the command (dvp test's spec problems)
	}
	if cmd == nil {
		cmd = root
	}
	var name string
	if cmd == root && !errors.As(err, new(*UsageError)) {
		if _, e := fmt.Sscanf(err.Error(), "unknown command %q for", &name); e == nil {
			err = unknownCommand(root, name)
		}
	}
	ue := (*UsageError)(nil)
	errors.As(err, &ue)
	if ue != nil && ue.Root {
		cmd = root
	}
	if ue != nil && ue.Bare {
		fmt.Fprintf(app.IO.Err, "Error: %s\n", termsafe.String(err.Error()))
	} else {
		fmt.Fprintf(app.IO.Err, "Usage: %s\nTry '%s -h' for help.\n\nError: %s\n", clickUsageLine(cmd), cmd.CommandPath(), termsafe.String(err.Error()))
	}
}

func (a *App) openDebugLog() {
	if a.IO.Home == "" {
		return
	}
	f, err := logging.OpenRotating(logging.DebugLogPath(a.IO.Home), logging.DebugLogMaxBytes, logging.DebugLogBackups)
	if err != nil {
		// The debug log is a help, not a requirement: go on without it.
		return
	}
	a.debugLog = f
	a.rebuildLogger()
}

func (a *App) closeDebugLog() {
	if a.debugLog != nil {
		a.debugLog.Close()
	}
}

// rebuildLogger applies the -v/-q counts once flags are parsed.
func (a *App) rebuildLogger() {
	o := logging.Options{Console: a.IO.Err, ConsoleLevel: logging.ConsoleLevel(a.Verbose, a.Quiet), Redactor: a.Redactor}
	if a.debugLog != nil {
		o.DebugLog = a.debugLog
	}
	a.Log = logging.New(o)
}

func (a *App) debugLogHint() string {
	if a.debugLog == nil {
		return ""
	}
	return " with the debug log " + a.debugLog.Path
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// runE adapts a command's run function so that its errors are told apart
// from cobra's own (usage) errors.
func runE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := f(cmd, args); err != nil {
			return &commandError{err: err}
		}
		return nil
	}
}

// secretFlags are the flags whose values are secrets.
var secretFlags = []string{"--password"}

// valueFlags are the flags whose inline values (plugin parameters as JSON)
// may hold secrets that dvp cannot tell apart without the plugin's schema:
// the command line is logged with their size instead. @FILE stays.
var valueFlags = []string{"--params", "--snapshot-params"}

// loggedArgs returns the command line as the debug log records it.
func loggedArgs(args []string) []string {
	out := append([]string(nil), args...)
	hide := func(v string) string {
		if strings.HasPrefix(v, "@") {
			return v
		}
		return fmt.Sprintf("<JSON, %d bytes>", len(v))
	}
	for i := 0; i < len(out); i++ {
		if out[i] == "--" {
			break
		}
		for _, f := range valueFlags {
			switch {
			case out[i] == f && i+1 < len(out):
				out[i+1] = hide(out[i+1])
				i++
			case strings.HasPrefix(out[i], f+"="):
				out[i] = f + "=" + hide(strings.TrimPrefix(out[i], f+"="))
			}
		}
	}
	return out
}

// registerSecretEnv registers the passwords of the environment (the
// engine user's and a local engine's admin password) with the redactor
// before anything logs the command line, which could hold them (in an
// engine address, say).
func registerSecretEnv(r *logging.Redactor, getenv func(string) string) {
	if getenv == nil {
		return
	}
	for _, k := range []string{"DVP_PASSWORD", EngineAdminPasswordEnv} {
		r.Add(getenv(k))
	}
}

// registerSecretArgs registers the values of secret flags with the
// redactor before anything logs the command line.
func registerSecretArgs(r *logging.Redactor, args []string) {
	for i, a := range args {
		if a == "--" {
			return
		}
		for _, f := range secretFlags {
			switch {
			case a == f && i+1 < len(args):
				r.Add(args[i+1])
			case strings.HasPrefix(a, f+"="):
				r.Add(strings.TrimPrefix(a, f+"="))
			}
		}
	}
}
