package cli

import (
	"github.com/spf13/cobra"
)

// newHelpCmd is dvp help [COMMAND...]: the help of a command; an unknown
// one is a usage error with "did you mean".
func newHelpCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND...]",
		Short: "Help about any command",
		Long:  `Help prints the help of a command: dvp help upload is dvp upload --help.`,
		Args:  cobra.ArbitraryArgs,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			parent := cmd.Root()
			if len(args) > 0 {
				if c, _, err := parent.Find(args); err == nil {
					parent = c
				}
			}
			return subcommandNames(parent), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c := cmd.Root()
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

// findSub returns the subcommand of c called name (or by an alias).
func findSub(c *cobra.Command, name string) *cobra.Command {
	for _, s := range c.Commands() {
		if s.Name() == name || s.HasAlias(name) {
			return s
		}
	}
	return nil
}
