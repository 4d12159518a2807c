package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dvpkit/dvp/docs"
)

// newHelpCmd is dvp help [COMMAND...|TOPIC]: the help of a command, or a
// help topic (a page of docs/, embedded: docs.Topics); an unknown name is a
// usage error with "did you mean".
func newHelpCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND...|TOPIC]",
		Short: "Help about any command, and longer help topics",
		Long: `Help prints the help of a command (dvp help upload is dvp upload --help), or a
help topic: a page of dvp's documentation, built into the binary, so it needs
no docs folder. dvp help with no argument lists the commands and the topics.`,
		Args: cobra.ArbitraryArgs,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			parent := cmd.Root()
			if len(args) > 0 {
				if c, _, err := parent.Find(args); err == nil {
					parent = c
				}
			}
			names := subcommandNames(parent)
			if len(args) == 0 {
				names = append(names, docs.Names()...)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c := cmd.Root()
			if len(args) > 1 && findSub(c, args[0]) == nil {
				if _, ok := docs.Lookup(args[0]); ok {
					// A topic is one page: what follows it is no command.
					return Usagef("Got unexpected extra argument%s (%s): dvp help %s prints a help topic and takes nothing after it.",
						map[bool]string{true: "s"}[len(args) > 2], quoteAll(args[1:]), args[0])
				}
			}
			if len(args) == 1 && findSub(c, args[0]) == nil {
				if t, ok := docs.Lookup(args[0]); ok {
					text, err := t.Text()
					if err != nil {
						return fmt.Errorf("help topic %s: %w", t.Name, err)
					}
					_, err = io.WriteString(app.IO.Out, text)
					return err
				}
				return unknownHelp(c, args[0])
			}
			for _, a := range args {
				next := findSub(c, a)
				if next == nil {
					return unknownCommand(c, a)
				}
				c = next
			}
			c.SetOut(app.IO.Out)
			return c.Help()
		},
	}
}

// unknownHelp is the usage error of dvp help NAME when NAME is neither a
// command nor a topic.
func unknownHelp(root *cobra.Command, name string) error {
	names := append(commandNamesAndAliases(root), docs.Names()...)
	msg := fmt.Sprintf("no command or help topic %s", quoteArg(name))
	if s := closest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; dvp help lists the commands and topics"
	}
	return &UsageError{Msg: msg}
}

// listTopicsInRootHelp makes the root's help (dvp, dvp --help, dvp help)
// end with the list of help topics.
// The help of a command that talks to an engine ends with its engine
// settings now (settingsHelp).
func listTopicsInRootHelp(app *App, root *cobra.Command) {
	base := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		base(c, args)
		if c == root {
			io.WriteString(c.OutOrStdout(), topicList())
		}
		writeSettingsHelp(app, c, c.OutOrStdout())
	})
}

// topicList is the list of help topics that dvp help and dvp --help end with.
func topicList() string {
	var b strings.Builder
	b.WriteString("\nHelp topics (dvp help TOPIC):\n")
	w := 0
	for _, t := range docs.Topics {
		w = max(w, len(t.Name))
	}
	for _, t := range docs.Topics {
		fmt.Fprintf(&b, "  %-*s  %s\n", w, t.Name, t.Summary)
	}
	return b.String()
}

// findSub returns the subcommand of c called name (or by an alias).
func findSub(c *cobra.Command, name string) *cobra.Command {
	for _, s := range c.Commands() {
		if s.Name() == name || s.HasAlias(name) {
			return s
		}
	}
	return nil
}
