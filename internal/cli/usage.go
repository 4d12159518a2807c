package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dvpkit/dvp/internal/jsonschemamsg"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Usage errors say what was wrong and what was probably meant: an unknown
// command or flag at any level of the tree is exit 2 with "did you mean",
// and a command group run without a command prints its help and exits 2
// (0 when the help is asked for with --help).

// finishTree gives every command group of the tree (except the root, which
// prints its help and exits 0 as dvp does) a run function that refuses a
// missing or unknown command, and makes flag errors suggest a close flag.
func finishTree(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasSubCommands() && c != root && c.Run == nil && c.RunE == nil {
			c.Args = cobra.ArbitraryArgs
			c.RunE = groupRunE
			c.SetUsageFunc(groupUsage)
			groupHelpChecksCommand(c)
		} else if !c.HasSubCommands() && c.Args != nil && c.Name() != "help" {
			c.Args = argsChecked(c.Args)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	rootHelpChecksArgs(root)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if c.HasSubCommands() && c != root && c.Flags().NArg() > 0 {
			// A flag of the command meant (dvp vdb lst -o json) must not
			// hide the mistyped command before it.
			return unknownCommand(c, c.Flags().Arg(0))
		}
		if msg := badFlagValue(c, err); msg != "" {
			return &UsageError{Msg: msg}
		}
		if msg := missingFlagValue(err); msg != "" {
			return &UsageError{Msg: msg}
		}
		return &UsageError{Msg: err.Error() + flagSuggestion(c, err)}
	})
}

// groupUsage prints a command group's usage as cobra prints any other,
// without the line "dvp GROUP [flags]" that its run function (groupRunE)
// would add: a group does nothing without a command, so its usage is
// "dvp GROUP [command]" alone.
// The commands of the group inherit it: theirs is cobra's as it is.
func groupUsage(c *cobra.Command) error {
	if c.HasSubCommands() {
		run := c.RunE
		c.RunE = nil
		defer func() { c.RunE = run }()
	}
	return c.Root().UsageFunc()(c) // the root sets none: cobra's
}

// groupRunE runs when a command group is given no command, or one that
// does not exist.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		cmd.SetOut(cmd.ErrOrStderr())
		cmd.Help()
		return Usagef("%s needs a command: %s.", cmd.CommandPath(), strings.Join(subcommandNames(cmd), ", "))
	}
	return unknownCommand(cmd, args[0])
}

// unknownCommand is the usage error of an unknown command name under cmd.
func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %s for %q", quoteArg(name), cmd.CommandPath())
	if s := closest(name, commandNamesAndAliases(cmd)); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else if s := closest(strings.TrimLeft(name, "-"), flagNames(cmd)); s != "" && len(name) > 2 {
		// A flag without its dashes: dvp version.
		msg += fmt.Sprintf("; did you mean --%s?", s)
	} else {
		msg += fmt.Sprintf(" (its commands: %s)", strings.Join(subcommandNames(cmd), ", "))
	}
	return &UsageError{Msg: msg}
}

func subcommandNames(cmd *cobra.Command) []string {
	var names []string
	for _, c := range cmd.Commands() {
		if !c.Hidden && c.Deprecated == "" {
			names = append(names, c.Name())
		}
	}
	return names
}

// commandNamesAndAliases are the names of cmd's commands and their aliases
// (dvp plugin is dvp toolkit): what a mistyped command may have meant.
func commandNamesAndAliases(cmd *cobra.Command) []string {
	names := subcommandNames(cmd)
	for _, c := range cmd.Commands() {
		if !c.Hidden && c.Deprecated == "" {
			names = append(names, c.Aliases...)
		}
	}
	return names
}

// flagSuggestion returns "; did you mean --X?" for an unknown flag close to
// one of cmd's flags, else "".
func flagSuggestion(cmd *cobra.Command, err error) string {
	msg := err.Error()
	var name string
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		name = strings.TrimPrefix(msg, "unknown flag: --")
	default:
		var nf *pflag.NotExistError
		if errors.As(err, &nf) {
			name = strings.TrimLeft(nf.GetSpecifiedName(), "-")
		}
	}
	if len(name) < 2 {
		return ""
	}
	if s := closest(name, flagNames(cmd)); s != "" {
		return fmt.Sprintf("; did you mean --%s?", s)
	}
	return ""
}

func flagNames(cmd *cobra.Command) []string {
	var names []string
	add := func(f *pflag.Flag) { names = append(names, f.Name) }
	cmd.Flags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	sort.Strings(names)
	return names
}

// closest returns the candidate nearest to name (at most 2 edits, or
// one it begins), else "".
func closest(name string, candidates []string) string {
	if s := jsonschemamsg.Suggest(name, candidates, 2); s != "" {
		return s
	}
	for _, c := range candidates {
		if len(name) >= 3 && strings.HasPrefix(c, name) {
			return c
		}
	}
	return ""
}

// argsChecked wraps the argument check of a command so that a wrong number
// of arguments is a usage error that says what the command takes, in
// click's words ("Missing argument", "Got unexpected extra argument"),
// with a "did you mean" when an extra argument is a flag without its
// dashes (dvp upload wait).
func argsChecked(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if check(cmd, args) != nil {
			return argsError(cmd, args)
		}
		// An empty name (dvp job wait "$JOB" with JOB unset) would reach
		// the engine as a request for the list, or a nameless object.
		names := argNames(cmd)
		for i, a := range args {
			if i < len(names) && strings.TrimSpace(a) == "" {
				return Usagef("Invalid value for %s: it is empty.", names[i])
			}
		}
		return nil
	}
}

func argsError(cmd *cobra.Command, args []string) error {
	names := argNames(cmd)
	if len(args) < len(names) {
		return Usagef("Missing argument %s (%s).", strings.Join(names[len(args):], " "), strings.TrimSuffix(cmd.UseLine(), " [flags]"))
	}
	extra := args[len(names):]
	msg := "Got unexpected extra argument"
	if len(extra) > 1 {
		msg += "s"
	}
	msg += fmt.Sprintf(" (%s): ", quoteAll(extra))
	if len(names) == 0 {
		msg += fmt.Sprintf("%s takes no arguments", cmd.CommandPath())
	} else {
		msg += fmt.Sprintf("%s takes %d argument%s, %s", cmd.CommandPath(), len(names), map[bool]string{true: "s"}[len(names) > 1], strings.Join(names, " "))
	}
	if s := closest(strings.TrimLeft(extra[0], "-"), flagNames(cmd)); s != "" {
		msg += fmt.Sprintf("; did you mean --%s?", s)
	} else {
		msg += "."
	}
	return &UsageError{Msg: msg}
}

// argNames are the argument placeholders of cmd's usage line: the upper
// case words after its name ("sync NAME [--resync]" takes NAME).
func argNames(cmd *cobra.Command) []string {
	fields := strings.Fields(cmd.Use)
	var names []string
	for _, f := range fields[min(1, len(fields)):] {
		if f == "" || strings.ToUpper(f) != f || strings.ContainsAny(f, "[(-|") {
			break
		}
		names = append(names, f)
	}
	return names
}

// badFlagValue rewords pflag's error for a value its type cannot parse
// ("invalid argument "abc" for "--timeout" flag: time: invalid duration
// "abc"") in dvp's words, with an example of a good value; "" for other
// errors.
func badFlagValue(cmd *cobra.Command, err error) string {
	var ve *pflag.InvalidValueError
	if !errors.As(err, &ve) {
		return ""
	}
	f := ve.GetFlag()
	if f == nil {
		return ""
	}
	name := "'--" + f.Name + "'"
	if f.Shorthand != "" {
		name = "'-" + f.Shorthand + "' / " + name
	}
	what := map[string]string{
		"duration": "a duration (such as 30s, 10m or 2h)",
		"bool":     "true or false",
		"int":      "a whole number",
		"count":    "a whole number",
	}[f.Value.Type()]
	if what == "" {
		what = "a " + f.Value.Type()
	}
	return fmt.Sprintf("Invalid value for %s: %q is not %s.", name, ve.GetValue(), what)
}

// missingFlagValue rewords pflag's error for a flag given last without
// its value ("flag needs an argument: 'c' in -c") as click words it, with
// what the value is; "" for other errors.
func missingFlagValue(err error) string {
	var vr *pflag.ValueRequiredError
	if !errors.As(err, &vr) || vr.GetFlag() == nil {
		return ""
	}
	f := vr.GetFlag()
	name := "--" + f.Name
	if vr.GetSpecifiedShortnames() != "" {
		name = "-" + f.Shorthand
	}
	return fmt.Sprintf("Option '%s' requires an argument: %s.", name, f.Usage)
}

// clickUsageLine is the usage line click prints above a usage error:
// "dvp upload [OPTIONS]", "dvp [OPTIONS] COMMAND [ARGS]..." for a group,
// and a command's arguments after its options.
func clickUsageLine(cmd *cobra.Command) string {
	if cmd.HasAvailableSubCommands() {
		return cmd.CommandPath() + " [OPTIONS] COMMAND [ARGS]..."
	}
	line := cmd.CommandPath() + " [OPTIONS]"
	if _, args, ok := strings.Cut(cmd.Use, " "); ok {
		line += " " + strings.TrimSpace(strings.ReplaceAll(args, "[flags]", ""))
	}
	return strings.TrimSpace(line)
}

// maxQuotedArg bounds how much of an argument a usage error repeats: a
// mistyped argument of megabytes is named by its start.
const maxQuotedArg = 80

// quoteArg quotes an argument for a usage error, cut to its first
// maxQuotedArg characters.
func quoteArg(a string) string {
	if r := []rune(a); len(r) > maxQuotedArg {
		return fmt.Sprintf("%q...", string(r[:maxQuotedArg]))
	}
	return fmt.Sprintf("%q", a)
}

// quoteAll quotes arguments for a usage error, separated by spaces.
func quoteAll(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = quoteArg(a)
	}
	return strings.Join(quoted, " ")
}

// groupHelpChecksCommand makes --help after a mistyped command of group c
// (dvp vdb lst --help) the usage error of that command, as without --help:
// cobra answers the help flag before the group runs, and would print the
// group's help and exit 0. The help prints nothing then, and App.Run
// reports the error (unknownCommandBehindHelp).
func groupHelpChecksCommand(c *cobra.Command) {
	help := c.HelpFunc()
	c.SetHelpFunc(func(cmd *cobra.Command, args []string) {
		if unknownCommandBehindHelp(cmd, nil) != nil {
			return
		}
		help(cmd, args)
	})
}

// unknownCommandBehindHelp returns the usage error of the unknown command
// that a group's --help went before (see groupHelpChecksCommand), or of
// the root's arguments or flags (rootArgsError; args: the command line),
// nil if there is none.
func unknownCommandBehindHelp(cmd *cobra.Command, args []string) error {
	if cmd != nil && !cmd.HasParent() {
		return rootArgsError(cmd, args)
	}
	if cmd == nil || !cmd.HasSubCommands() {
		return nil
	}
	if a := cmd.Flags().Args(); len(a) > 0 && findSub(cmd, a[0]) == nil {
		return unknownCommand(cmd, a[0])
	}
	return nil
}

// rootArgsError is the usage error of arguments the root was left with:
// a command after '--' (dvp -- build), or an empty one (dvp ""). cobra
// finds no command in either and runs the root, which printed its help
// and exited 0, so a script could not tell that nothing ran. '--' ends
// the options, so what follows it is an argument, never a command (as
// for go, git and kubectl): the error says what to run instead. Flags
// alone are checked as for a command (dvp -vvvv, dvp -qv: the root
// printed its help and exited 0); the command line (cmdline) words the
// -v/-q conflict in its order.
func rootArgsError(root *cobra.Command, cmdline []string) error {
	args := root.Flags().Args()
	if len(args) == 0 {
		if f := root.Flags().Lookup("version"); f != nil && f.Changed {
			return nil
		}
		return checkVerbosity(root.PersistentFlags(), cmdline)
	}
	if root.Flags().ArgsLenAtDash() == 0 && args[0] != "" {
		msg := fmt.Sprintf("%s after '--' is not run as a command: '--' ends the options, and dvp itself takes no arguments", quoteArg(args[0]))
		if c := findSub(root, args[0]); c != nil {
			msg += fmt.Sprintf("; to run it, leave out '--': %s %s", root.Name(), c.Name())
		}
		return &UsageError{Msg: msg + "."}
	}
	return unknownCommand(root, args[0])
}

// rootHelpChecksArgs makes the root's help print nothing when the root is
// left with arguments (rootArgsError), which App.Run reports instead.
func rootHelpChecksArgs(root *cobra.Command) {
	help := root.HelpFunc()
	root.SetHelpFunc(func(cmd *cobra.Command, args []string) {
		if cmd == root && rootArgsError(root, nil) != nil {
			return
		}
		help(cmd, args)
	})
}
