package cli

import (
	"github.com/spf13/cobra"
)

// addGroupCommands adds the commands of a command group (add adds them),
// unless the command line being run cannot reach the group. Building a
// command with its flags and completions costs allocations that every dvp
// process pays at start (docs/performance.md, "Start-up"), and most of the
// tree is in the object groups (vdb, dsource, environment, ...); dvp
// --version, dvp --help or dvp build need only their names and summaries.
//
// A group is reached only through its name or one of its aliases on the
// command line (cobra matches neither prefixes nor other cases here), so
// a group whose name and aliases are not among the arguments is left
// without its commands: it still lists in the root's help, completion and
// "did you mean" with the same name and summary. Should it run after all,
// it adds its commands first and answers as a group run without a known
// command does. NewRootCmd outside App.Run (tests, documentation) builds
// the whole tree.
func (app *App) addGroupCommands(group *cobra.Command, add func()) {
	if !app.lazyGroups || argsName(app.Args, group) {
		add()
		return
	}
	group.Args = cobra.ArbitraryArgs
	group.RunE = func(cmd *cobra.Command, args []string) error {
		add()
		return groupRunE(cmd, args)
	}
}

// argsName reports whether an argument is the name or an alias of cmd.
func argsName(args []string, cmd *cobra.Command) bool {
	for _, a := range args {
		if a == cmd.Name() || cmd.HasAlias(a) {
			return true
		}
	}
	return false
}
