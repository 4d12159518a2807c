package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const maxVerbosity = 3

// NewRootCmd builds the dvp command tree.
func NewRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "dvp",
		Short: "Build, test and ship Delphix virtualization plugins written in Go",
		Long: `dvp scaffolds, validates, builds and uploads Delphix virtualization plugins
written in Go, and runs a local engine to test them on.

Results (references, statuses, paths, lists, JSON, a check's report) go to
stdout; messages (what dvp did), logs, progress and errors go to stderr. Every
run also writes a debug log to ~/.dvp/logs/debug.log (secrets redacted).

Exit codes: 0 success, 1 a problem with your input or the engine, 2 a bad
command line, 3 an internal error in dvp, 130 interrupted (Ctrl-C), 143
terminated (SIGTERM), 129 its terminal closed (SIGHUP).`,
		Version:       app.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := checkVerbosity(cmd.Root().PersistentFlags(), app.Args); err != nil {
				return err
			}
			app.Verbose, _ = cmd.Flags().GetCount("verbose")
			app.Quiet, _ = cmd.Flags().GetCount("quiet")
			app.rebuildLogger()
			app.catchInterrupts()
			return nil
		},
	}
	root.SetVersionTemplate("dvp, version {{.Version}}\n")
	root.SetOut(app.IO.Out)
	root.SetErr(app.IO.Err)
	root.SetIn(app.IO.In)

	pf := root.PersistentFlags()
	pf.CountP("verbose", "v", "print more: -v info, -vv debug, -vvv everything (at most 3; not with -q)")
	pf.CountP("quiet", "q", "print less: -q errors and results only, -qq critical errors only, -qqq nothing (at most 3; not with -v)")
	root.Flags().Bool("version", false, "print the version and exit")

	root.AddCommand(newBuildCmd(app))
	root.AddCommand(newInitCmd(app))
	root.AddCommand(newValidateCmd(app))
	root.AddCommand(newUploadCmd(app))
	root.AddCommand(newDownloadLogsCmd(app))
	root.AddCommand(newEngineCmd(app))
	root.AddCommand(newEnvironmentCmd(app))
	root.AddCommand(newSourceConfigCmd(app))
	root.AddCommand(newDSourceCmd(app))
	root.AddCommand(newSnapshotCmd(app))
	root.AddCommand(newVDBCmd(app))
	root.AddCommand(newJobCmd(app))
	root.AddCommand(newToolkitCmd(app))
	root.AddCommand(newTestCmd(app))
	root.AddCommand(app.ExtraCommands...)
	root.SetHelpCommand(newHelpCmd(app))
	listTopicsInRootHelp(app, root)
	showConfiguredDefaults(app, root)
	root.DisableSuggestions = true // unknown commands are unknownCommand's
	finishTree(root)
	addCompletions(app, root)
	return root
}

// checkVerbosity applies dvp's rule (docs/compatibility.md, the command
// line): each of -v/-q counts up to 3 and they are mutually exclusive; the
// error names the option given first.
func checkVerbosity(fs *pflag.FlagSet, args []string) error {
	v, _ := fs.GetCount("verbose")
	q, _ := fs.GetCount("quiet")
	if v > maxVerbosity {
		return &UsageError{Msg: fmt.Sprintf("Invalid value for '-v' / '--verbose': %d is not in the valid range of 0 to %d.", v, maxVerbosity), Root: true}
	}
	if q > maxVerbosity {
		return &UsageError{Msg: fmt.Sprintf("Invalid value for '-q' / '--quiet': %d is not in the valid range of 0 to %d.", q, maxVerbosity), Root: true}
	}
	if v > 0 && q > 0 {
		first, second := "verbose", "quiet"
		if quietFirst(args) {
			first, second = second, first
		}
		return &UsageError{Msg: fmt.Sprintf("%q is mutually exclusive with argument(s) %q.", first, second), Bare: true}
	}
	return nil
}

func quietFirst(args []string) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		switch {
		case a == "--quiet" || strings.HasPrefix(a, "--quiet="):
			return true
		case a == "--verbose" || strings.HasPrefix(a, "--verbose="):
			return false
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--"):
			for _, c := range a[1:] {
				if c == 'q' {
					return true
				}
				if c == 'v' {
					return false
				}
			}
		}
	}
	return false
}
