package cli

import (
	"context"
	"encoding/json"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/spf13/cobra"
)

// SourceConfigAddOptions are the inputs of dvp source-config add.
type SourceConfigAddOptions struct {
	ObjectOptions
	Environment string
	Repository  string
	Params      string

	params json.RawMessage // --params, read once when checked
}

func newSourceConfigCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "source-config",
		Short: "Add, update, delete and list source configs (the datasets of a repository)",
		Args:  cobra.NoArgs,
	}
	app.addGroupCommands(cmd, func() {
		cmd.AddCommand(newSourceConfigAddCmd(app), newSourceConfigUpdateCmd(app), newSourceConfigDeleteCmd(app), newSourceConfigListCmd(app))
	})
	return cmd
}

// SourceConfigUpdateOptions are the inputs of dvp source-config update.
type SourceConfigUpdateOptions struct {
	ObjectOptions
	Params string

	params json.RawMessage // --params, read once when checked
}

func newSourceConfigUpdateCmd(app *App) *cobra.Command {
	o := SourceConfigUpdateOptions{}
	cmd := &cobra.Command{
		Use:   "update NAME --params JSON|@FILE",
		Short: "Replace the parameters of a source config added by hand",
		Long: `Update replaces the parameters of a source config added by hand (dvp
source-config add), keeping its name and reference, so that dSources linked to
it keep working. The parameters are validated against the plugin's
sourceConfigDefinition first; each problem names its JSON pointer.

Refused, saying why: a change of the identity fields while a dSource is
linked to the source config (the dSources are named), a discovered source
config (the next discovery would replace it: change it where the plugin
finds it) and a VDB's source config (its configure writes it).

It prints the source config's reference on stdout (-o json: "result") and
says "Updated source config NAME." on stderr.`,
		Example: `  dvp source-config update data --params '{"name": "data", "path": "/srv/data2"}'`,
		Args:    cobra.ExactArgs(1),
		RunE: objectRunE(app, &o.ObjectOptions, func(*cobra.Command, []string) error {
			if o.Params == "" {
				return Usagef("Missing option '--params'.")
			}
			var err error
			o.params, err = readParams("--params", o.Params)
			return err
		}, func(ctx context.Context, c *engineclient.Client, args []string) error {
			params := o.params
			ref, name, err := lookUpOn(ctx, c.ListSourceConfigs, args[0], sourceConfigRefName)
			if err != nil {
				return err
			}
			s, err := c.UpdateSourceConfig(ctx, args[0], engineapi.SourceConfigUpdateParameters{Parameters: params})
			if err != nil {
				return mapEngineError(err)
			}
			return printDone(app, &o.ObjectOptions, s, ref, "Updated source config "+name+".")
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	cmd.Flags().StringVar(&o.Params, "params", "", "the source config's new parameters: a JSON object, or @FILE")
	return cmd
}

func newSourceConfigDeleteCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a source config no dSource or VDB uses",
		Long: `Delete removes a source config. It is refused while a dSource is linked to it
or a VDB owns it; the refusal names them. A discovered source config comes
back at the next discovery (dvp environment refresh) while the plugin still
finds it.

` + deleteOutputHelp,
		Example: `  dvp source-config delete data`,
		Args:    cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			ref, name, err := lookUpOn(ctx, c.ListSourceConfigs, args[0], sourceConfigRefName)
			if err != nil {
				return err
			}
			return runDelete(ctx, app, &o, c, DeletedObject{Type: "source config", Reference: ref, Name: name}, "Deleted source config "+name+".",
				func() (*engineclient.Started, error) { return c.DeleteSourceConfig(ctx, args[0]) })
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

func newSourceConfigAddCmd(app *App) *cobra.Command {
	o := SourceConfigAddOptions{}
	cmd := &cobra.Command{
		Use:   "add NAME --environment ENV --repository REPO --params JSON|@FILE",
		Short: "Add a source config by hand",
		Long: `Add creates a source config in a repository discovered on an environment. The
parameters are validated against the plugin's sourceConfigDefinition first;
each problem names its JSON pointer. The new reference is printed.`,
		Example: `  dvp source-config add data --environment source --repository "Repository for our First Plugin" \
      --params '{"name": "data", "path": "/srv/data"}'`,
		Args: cobra.ExactArgs(1),
		RunE: objectRunE(app, &o.ObjectOptions, func(*cobra.Command, []string) error {
			if o.Repository == "" {
				return Usagef("Missing option '--repository'.")
			}
			var err error
			o.params, err = readParams("--params", o.Params)
			return err
		}, func(ctx context.Context, c *engineclient.Client, args []string) error {
			s, err := c.AddSourceConfig(ctx, engineapi.SourceConfigCreateParameters{
				Name: args[0], Environment: o.Environment, Repository: o.Repository, Parameters: o.params,
			})
			return printJob(ctx, app, &o.ObjectOptions, c, s, err)
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	f := cmd.Flags()
	f.StringVar(&o.Environment, "environment", "", "the environment of the repository (to find it by name)")
	f.StringVar(&o.Repository, "repository", "", "the repository: its name on --environment, or its reference")
	f.StringVar(&o.Params, "params", "", "the source config's parameters: a JSON object, or @FILE")
	return cmd
}

func newSourceConfigListCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the source configs",
		Args:  cobra.NoArgs,
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			scs, err := c.ListSourceConfigs(ctx)
			return printList(app, &o, scs, err, listColumns{Header: []string{"REFERENCE", "NAME", "REPOSITORY", "PARAMETERS"}, Empty: "No source configs."}, func(sc engineapi.SourceConfig) []any {
				return []any{sc.Reference, sc.Name, sc.Repository, sc.Parameters}
			})
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

// sourceConfigRefName is a source config's reference and name (lookUp).
func sourceConfigRefName(sc engineapi.SourceConfig) (string, string) { return sc.Reference, sc.Name }
