package cli

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dvpkit/dvp/internal/scaffold"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// InitOptions are the inputs of dvp init.
type InitOptions struct {
	Root              string
	Name              string
	IngestionStrategy string // DIRECT or STAGED (canonical)
	HostType          string // UNIX or WINDOWS
	Cwd               string
}

func newInitCmd(app *App) *cobra.Command {
	opts := InitOptions{}
	cwd, _ := app.IO.Getwd()
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a plugin project that builds at once",
		Long: `Init writes a new plugin project into the root directory: plugin_config.yml,
schema.json, and a Go module in src/ (go.mod, plugin_runner.go implementing
every required operation of the plugin type, and the code generated from
schema.json), plus .dvp/sdk, a copy of the plugin SDK of this dvp that src/go.mod
points to, so the project builds with plain 'go build' without network access.

It refuses to overwrite anything: when one of these paths exists it stops and
changes nothing. It says on stderr what it created: the plugin's type, name
and id. Without -n the name is the id, as in Delphix's dvp: set name: in
plugin_config.yml to give it another. dvp help project describes the layout.`,
		Example: `  dvp init -n my-plugin -s STAGED
  dvp init -r path/to/project -t WINDOWS`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			checks := map[string]func() error{
				"root-dir": func() error { return checkWritableDir("-r", "--root-dir", opts.Root) },
				"ingestion-strategy": func() error {
					strategy, ok := choice(opts.IngestionStrategy, []string{protocol.PluginTypeDirect, protocol.PluginTypeStaged}, false)
					if !ok {
						return Usagef("Invalid value for '-s' / '--ingestion-strategy': invalid choice: %s. (choose from DIRECT, STAGED)", opts.IngestionStrategy)
					}
					opts.IngestionStrategy = strategy
					return nil
				},
				"host-type": func() error {
					if _, ok := choice(opts.HostType, []string{scaffold.Unix, scaffold.Windows}, true); !ok {
						return Usagef("Invalid value for '-t' / '--host-type': invalid choice: %s. (choose from UNIX, WINDOWS)", opts.HostType)
					}
					return nil
				},
			}
			// As click: the options given, in the order given, then the
			// others in the order declared.
			for _, name := range givenOrder(cmd, app.Args, []string{"root-dir", "ingestion-strategy", "host-type"}) {
				if err := checks[name](); err != nil {
					return err
				}
			}
			opts.Cwd = cwd
			return runInit(cmd.Context(), app, opts)
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Root, "root-dir", "r", cwd, "the directory to create the project in (it must exist)")
	f.StringVarP(&opts.Name, "plugin-name", "n", "", "the plugin's display name (default: the generated plugin id)")
	f.StringVarP(&opts.IngestionStrategy, "ingestion-strategy", "s", protocol.PluginTypeDirect, "DIRECT or STAGED (case-insensitive)")
	f.StringVarP(&opts.HostType, "host-type", "t", scaffold.Unix, "UNIX or WINDOWS")
	return cmd
}

// choice applies click's Choice: the canonical value of v, if it is one.
func choice(v string, choices []string, caseSensitive bool) (string, bool) {
	for _, c := range choices {
		if v == c || !caseSensitive && strings.EqualFold(v, c) {
			return c, true
		}
	}
	return "", false
}

// givenOrder returns names (flags in their declared order) as click
// processes them: those given on the command line, in the order given, then
// the others.
func givenOrder(cmd *cobra.Command, args []string, names []string) []string {
	var given, rest []string
	for _, n := range names {
		if f := cmd.Flags().Lookup(n); f != nil && f.Changed {
			given = append(given, n)
		} else {
			rest = append(rest, n)
		}
	}
	var ordered []string
	for len(given) > 0 {
		first := firstGiven(cmd, args, given)
		ordered = append(ordered, first)
		given = slices.DeleteFunc(given, func(n string) bool { return n == first })
	}
	return append(ordered, rest...)
}

// runInit scaffolds the project and says so on stderr (a message: -q drops
// it), naming the plugin and its id. Without -n the name is the id, as in
// Delphix's dvp: the message says so and how to choose one.
// A signal before the project is written ends init with nothing written; one
// that comes while it is written (scaffold.Init renames the finished files
// into place) ends it after, saying the project is there.
func runInit(ctx context.Context, app *App, opts InitOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	res, err := scaffold.Init(scaffold.Options{
		Root: opts.Root, Name: opts.Name, PluginType: opts.IngestionStrategy, HostType: opts.HostType,
	})
	var ee *scaffold.ExistsError
	var ie *scaffold.InitError
	switch {
	case errors.As(err, &ee):
		// dvp's words, then how to go on: init never overwrites.
		return Userf("%s\ndvp init writes a new project and changes nothing that exists: run it in an empty directory, or name one with -r.", ee.Error())
	case errors.As(err, &ie):
		return Userf("%s", ie.Error())
	case err != nil:
		return err
	}
	shown := displayPath(res.Root, opts.Cwd)
	if shown == "." || shown == "" {
		shown = res.Root
	}
	if err := ctx.Err(); err != nil {
		app.leave("the project was written whole in %s before dvp stopped", shown)
		return err
	}
	if opts.Name == "" {
		app.say("Initialized the %s %s plugin %s in %s. Without a name (-n) its name is its id: set name: in plugin_config.yml to give it another.", opts.IngestionStrategy, opts.HostType, res.ID, shown)
	} else {
		app.say("Initialized the %s %s plugin %q (id %s) in %s.", opts.IngestionStrategy, opts.HostType, res.Name, res.ID, shown)
	}
	src := filepath.Join(res.Root, scaffold.SrcDir)
	app.Log.Info("Next: edit schema.json and " + filepath.Join(src, scaffold.EntryPointFile) +
		", run 'dvp build -g' to regenerate the Go types, 'go build ./...' in " + src +
		" to compile, and 'dvp build' for the upload artifact.")
	return nil
}
