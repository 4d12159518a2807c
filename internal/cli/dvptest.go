package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/dvpkit/dvp/internal/dvptest"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/termsafe"
	"github.com/spf13/cobra"
)

// exitInterrupted is dvp test's exit code after Ctrl-C (128 + SIGINT).
const exitInterrupted = 130

// TestOptions are the inputs of dvp test.
type TestOptions struct {
	ConnectionOptions
	File   string
	Run    string
	Keep   bool
	JUnit  string
	Output string
	// FileGiven: -f was given (else the nearest dvptest.yml is used).
	FileGiven bool
}

func newTestCmd(app *App) *cobra.Command {
	opts := TestOptions{}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Test the plugin's whole lifecycle on an engine, as dvptest.yml describes it",
		Long: `Test reads the spec (dvptest.yml), builds the plugin as 'dvp build' does,
starts a private local engine in a temporary directory (or uses the engine of
-e), uploads the plugin, and runs each scenario of the spec: environments and
source configs are added, then the steps run (link, sync, provision, refresh,
...), each with its checks; at the end of each scenario what it made is
deleted. The engine is stopped and its data removed at the end, also when a
step fails or on Ctrl-C; a second Ctrl-C during that clean-up stops the
engine at once and still removes its data. dvp help test-spec is the reference of the spec.

Exit codes: 0 every scenario passed, 1 a scenario failed (or the plugin did
not build or upload), 2 a bad spec or command line, 130 interrupted.`,
		Example: `  dvp test
  dvp test -f dvptest.yml --run lifecycle --junit report.xml
  dvp test --keep
  dvp test -e https://engine.example.com -u admin --password-stdin`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			opts.FileGiven = cmd.Flags().Changed("file")
			runRe, err := opts.check(app)
			if err != nil {
				return err
			}
			var remote *dvptest.Remote
			if cmd.Flags().Changed("engine") {
				if remote, err = testRemote(cmd, app, &opts.ConnectionOptions); err != nil {
					return err
				}
			}
			return runTest(cmd.Context(), app, opts, runRe, remote)
		}),
	}
	addConnectionFlags(cmd, &opts.ConnectionOptions)
	f := cmd.Flags()
	f.StringVarP(&opts.File, "file", "f", dvptest.DefaultFile, "the spec file")
	f.StringVar(&opts.Run, "run", "", "run only the scenarios whose names match this regular expression")
	f.BoolVar(&opts.Keep, "keep", false, "leave the engine, its data and the objects of the scenarios, and print how to look at them")
	f.StringVar(&opts.JUnit, "junit", "", "also write a JUnit XML report to this file")
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	cmd.RegisterFlagCompletionFunc("run", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return scenarioCompletions(app, cmd, toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// check checks the options of dvp test before anything runs, finds the
// spec (-f, else the nearest dvptest.yml above the working directory) and
// returns --run compiled.
func (opts *TestOptions) check(app *App) (*regexp.Regexp, error) {
	if err := checkOutputFlag(&opts.Output); err != nil {
		return nil, err
	}
	var runRe *regexp.Regexp
	if opts.Run != "" {
		re, err := regexp.Compile(opts.Run)
		if err != nil {
			return nil, Usagef("Invalid value for '--run': %v.", err)
		}
		runRe = re
	}
	if opts.JUnit != "" {
		if st, err := os.Stat(filepath.Dir(opts.JUnit)); err != nil || !st.IsDir() {
			return nil, Usagef("Invalid value for '--junit': the directory '%s' does not exist.", filepath.Dir(opts.JUnit))
		}
	}
	cwd, _ := app.IO.Getwd()
	if cwd != "" {
		discoverProjectFile(app, opts.FileGiven, cwd, dvptest.DefaultFile, &opts.File)
		if _, err := os.Stat(opts.File); os.IsNotExist(err) && !opts.FileGiven {
			return nil, Usagef("Invalid value for '-f' / '--file': File '%s' does not exist, in %s or any directory above it. 'dvp init' writes a starter one; or give -f.", dvptest.DefaultFile, cwd)
		}
	}
	if err := checkExistingFile("-f", "--file", opts.File); err != nil {
		return nil, err
	}
	return runRe, nil
}

// testRemote is the engine of dvp test -e: the connection resolved as for
// every command that talks to an engine, and its client.
func testRemote(cmd *cobra.Command, app *App, o *ConnectionOptions) (*dvptest.Remote, error) {
	conn, err := resolveConnection(cmd.Context(), app, cmd, o, func() error { return nil })
	if err != nil {
		return nil, err
	}
	client, err := newClient(app, o, conn)
	if err != nil {
		return nil, err
	}
	return &dvptest.Remote{Client: client, User: conn.user, Password: conn.password}, nil
}

// scenarioCompletions are the values dvp test --run completes: the names
// of the spec's scenarios (-f, else the dvptest.yml dvp test would find),
// as regular expressions that match them, each with its number of steps.
// Nothing (no message) when the spec cannot be read.
func scenarioCompletions(app *App, cmd *cobra.Command, toComplete string) []string {
	path, _ := cmd.Flags().GetString("file")
	if !cmd.Flags().Changed("file") && app.IO.Getwd != nil {
		if cwd, err := app.IO.Getwd(); err == nil {
			if found := findUp(cwd, dvptest.DefaultFile); found != "" {
				path = found
			}
		}
	}
	names, err := dvptest.ScenarioNames(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range names {
		v := regexp.QuoteMeta(n.Name)
		if !completableName(v) || !strings.HasPrefix(v, toComplete) {
			continue
		}
		steps := "steps"
		if n.Steps == 1 {
			steps = "step"
		}
		out = append(out, fmt.Sprintf("%s\tscenario, %d %s", v, n.Steps, steps))
	}
	return out
}

func runTest(ctx context.Context, app *App, opts TestOptions, runRe *regexp.Regexp, remote *dvptest.Remote) error {
	out := app.resultOut() // the report: a result (-qq: nothing)
	var printer dvptest.Printer
	if opts.Output == "text" {
		// The running step is drawn on stdout, where the results go: only
		// when both stdout and stderr are a terminal (never into a pipe).
		printer = &dvptest.TextPrinter{W: out, TTY: progress(app) != nil && app.IO.StdoutIsTerminal}
	}
	rep, err := dvptest.Run(ctx, dvptest.Options{
		SpecPath:   opts.File,
		Run:        runRe,
		Remote:     remote,
		NewClient:  app.EngineClient,
		Keep:       opts.Keep,
		DvpVersion: app.Version,
		Printer:    printer,
		Log:        app.Log,
		Abort:      app.onForcedExit,
	})
	var se *dvptest.SpecError
	switch {
	case errors.As(err, &se):
		cwd, _ := app.IO.Getwd()
		problems := relativize(se.Problems, cwd)
		for _, p := range problems {
			fmt.Fprintln(app.IO.Err, termsafe.String(p.String()))
		}
		fmt.Fprintf(app.IO.Err, "\nThe spec %s has mistakes (%s): nothing was run.\n", termsafe.String(opts.File), problems.Summary())
		return &SilentError{Code: ExitUsage}
	case errors.Is(err, dvptest.ErrNoScenario):
		return Usagef("--run: %s.", err.Error())
	case err != nil:
		return Userf("%s", err.Error())
	}
	if opts.JUnit != "" {
		if err := writeJUnit(opts.JUnit, rep); err != nil {
			return err
		}
	}
	if opts.Output == "json" {
		if err := rep.WriteJSON(out); err != nil {
			return err
		}
	} else {
		printSummary(app, opts, rep)
	}
	switch {
	case rep.Interrupted:
		switch {
		case rep.Kept != nil:
			app.leave("the engine, its data and the objects are kept in %s (--keep)", rep.Kept.Dir)
		case len(rep.CleanupProblems) > 0:
			app.leave("the clean-up left what it lists above")
		default:
			app.leave("what dvp test made was deleted and its engine stopped")
		}
		return &SilentError{Code: exitInterrupted}
	case !rep.OK():
		return &SilentError{Code: ExitUser}
	}
	return nil
}

func writeJUnit(path string, rep *dvptest.Report) error {
	var b bytes.Buffer
	if err := rep.WriteJUnit(&b); err != nil {
		return err
	}
	if err := fsutil.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return Userf("Cannot write the JUnit report %s: %v", path, err)
	}
	return nil
}

func printSummary(app *App, opts TestOptions, rep *dvptest.Report) {
	out := app.resultOut()
	for _, p := range rep.CleanupProblems {
		fmt.Fprintf(out, "clean-up: %s\n", termsafe.String(p))
	}
	ran := rep.Error == ""
	switch {
	case !ran && rep.Interrupted:
		fmt.Fprintf(out, "\nThe scenarios did not run: dvp test was interrupted.\n")
	case !ran:
		fmt.Fprintf(out, "\nThe scenarios did not run: the failure above stopped the run.\n")
	}
	verdict := "PASS"
	switch {
	case rep.Interrupted:
		verdict = "INTERRUPTED"
	case !rep.OK():
		verdict = "FAIL"
	}
	interrupted := ""
	if rep.Interrupted {
		interrupted = fmt.Sprintf(", %d interrupted", rep.InterruptedScenarios())
	}
	fmt.Fprintf(out, "\n%s: %d passed, %d failed%s, %d not run (%s)\n", verdict, rep.Passed, rep.Failed, interrupted, rep.Skipped, rep.Duration.Round(100_000_000))
	if k := rep.Kept; k != nil {
		fmt.Fprintf(out, "\nKept (--keep) in %s:\n", k.Dir)
		if k.Pid != 0 {
			fmt.Fprintf(out, "  the engine %s (pid %d), its data in %s, its log %s\n", k.Engine, k.Pid, k.DataDir, k.EngineLog)
			fmt.Fprintf(out, "  the plugin's logs in %s\n", k.PluginLogs)
			fmt.Fprintf(out, "Look at it with:\n")
			fmt.Fprintf(out, "  export DVP_ENGINE=%s DVP_USER=admin DVP_PASSWORD=\"$(cat %s)\"\n", k.Engine, k.PasswordFile)
			fmt.Fprintf(out, "  dvp environment list; dvp dsource list\n")
			fmt.Fprintf(out, "  less %s/debug.log\n", k.PluginLogs)
			fmt.Fprintf(out, "Then stop it and remove its data:\n  kill %d && rm -rf %s\n", k.Pid, k.Dir)
		} else {
			fmt.Fprintf(out, "  the objects of the scenarios are left on %s\n", k.Engine)
		}
	} else if ran && !rep.OK() && !rep.Interrupted {
		fmt.Fprintf(out, "Run again with --keep to keep the engine, its data and the plugin's logs for a look.\n")
	}
}
