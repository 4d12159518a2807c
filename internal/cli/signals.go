package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Interrupts: SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed)
// end every command with exit 128+signal (130, 143, 129) and one line on
// stderr that says what was left as it was, never "context canceled"; a
// SIGHUP that was ignored when dvp started (nohup) stays ignored. The first signal cancels the command's
// context so that it stops cleanly (files are replaced atomically, so an
// interrupted command leaves them as they were); a second one ends dvp at
// once, after the command's forced-exit function, if it set one, has
// undone what must not be left (dvp test's temporary directory and
// engine). dvp engine serve too: a signal is how it is stopped, and once it
// has stopped gracefully it exits 130/143 saying where it kept its data.

// Main runs dvp as the process: args without the program name. It returns
// the exit code.
func Main(args []string, version string) int {
	return (&App{IO: SystemIO(), Version: version}).Main(args)
}

// Main runs dvp as the process in the App (see the function Main). The
// signals are caught from the moment a command starts its work (the root
// command's PersistentPreRunE calls catchInterrupts), not from the start of
// the process: parsing the command line, --help and --version leave nothing
// half-done, and catching signals starts the runtime's signal goroutines
// and several threads, a fifth of the CPU of a dvp --version
// (docs/performance.md, "Start-up"). A signal before that ends dvp as it
// ends any process that has not caught it, with the signal's status (the
// shell's $? is 128+signal, as after a caught one).
func (app *App) Main(args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app.cancel = cancel
	defer app.stopInterrupts()
	code := app.Run(ctx, args)
	app.interrupt.awaitForce()
	return code
}

// catchInterrupts starts catching the signals that stop a command: the
// first cancels the command's context, a second ends dvp at once after the
// command's forced-exit function. It does nothing outside Main (tests that
// call Run) and the second time.
func (app *App) catchInterrupts() {
	if app.cancel == nil || app.sigs != nil {
		return
	}
	sigs := make(chan os.Signal, 2)
	app.sigs = sigs
	signal.Notify(sigs, interrupts()...)
	go func() {
		sig, ok := <-sigs
		if !ok {
			return
		}
		app.interrupt.set(sig)
		app.cancel()
		if sig, ok = <-sigs; ok {
			app.interrupt.set(sig)
			app.interrupt.beginForce()
			if left := app.interrupt.forcedExit(); left != "" {
				app.leave("%s", left)
			}
			fmt.Fprintln(app.IO.Err, app.interruptLine())
			os.Exit(app.interrupt.code())
		}
	}()
}

// stopInterrupts stops catching signals (catchInterrupts).
func (app *App) stopInterrupts() {
	if app.sigs != nil {
		signal.Stop(app.sigs)
	}
}

// interrupts are the signals that stop a command. Without SIGHUP here,
// closing the terminal of a dvp engine serve & killed it on the spot: its
// jobs were left RUNNING and its plugins' operations cut, for crash
// recovery to find at the next start. Under nohup SIGHUP is left ignored
// (signal.Notify would undo that).
func interrupts() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}

// interruptState is the signal received, if any, and what the command
// would leave as it was if it stopped now.
type interruptState struct {
	mu   sync.Mutex
	sig  os.Signal
	note string
	// force, when set, runs on a second signal before dvp exits, and
	// says what it left.
	force func() string
	// forcing: a second signal came and its forced exit runs.
	forcing bool
}

// beginForce records that the forced exit of a second signal runs.
func (s *interruptState) beginForce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forcing = true
}

// awaitForce waits, once a second signal's forced exit runs, for it to
// end dvp with its own line: the command, which its work (stopping dvp
// test's engine) may let finish first, must not exit before it with a
// line that says the clean-up was done.
func (s *interruptState) awaitForce() {
	s.mu.Lock()
	forcing := s.forcing
	s.mu.Unlock()
	if forcing {
		select {} // the forced exit calls os.Exit
	}
}

// onForcedExit sets what a second signal runs before dvp exits at once
// (see Main): f undoes what must not be left and says what it left.
func (a *App) onForcedExit(f func() string) {
	a.interrupt.mu.Lock()
	defer a.interrupt.mu.Unlock()
	a.interrupt.force = f
}

// forcedExit runs the forced-exit function, if any.
func (s *interruptState) forcedExit() string {
	s.mu.Lock()
	f := s.force
	s.mu.Unlock()
	if f == nil {
		return ""
	}
	return f()
}

func (s *interruptState) set(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sig == nil {
		s.sig = sig
	}
}

func (s *interruptState) signal() os.Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sig
}

// code is the exit code of the signal: 128 + its number.
func (s *interruptState) code() int {
	if sig, ok := s.signal().(syscall.Signal); ok {
		return 128 + int(sig)
	}
	return 130
}

// leave records what the command leaves as it was if interrupted now.
func (a *App) leave(format string, args ...any) {
	a.interrupt.mu.Lock()
	defer a.interrupt.mu.Unlock()
	a.interrupt.note = fmt.Sprintf(format, args...)
}

// interruptLine is the one line dvp prints when a signal ends a command.
func (a *App) interruptLine() string {
	a.interrupt.mu.Lock()
	note := a.interrupt.note
	a.interrupt.mu.Unlock()
	name := "SIGINT"
	switch a.interrupt.signal() {
	case syscall.SIGTERM:
		name = "SIGTERM"
	case syscall.SIGHUP:
		name = "SIGHUP"
	}
	if note == "" {
		note = "nothing was left half-done"
	}
	return fmt.Sprintf("Interrupted (%s): %s.", name, note)
}
