package cli

import (
	"context"
	"encoding/json"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/spf13/cobra"
)

// VDBCreateEmptyOptions are the inputs of dvp vdb create-empty.
type VDBCreateEmptyOptions struct {
	ObjectOptions
	Environment string
	Repository  string
	Params      string

	params json.RawMessage // --params, read once when checked
}

func newVDBCreateEmptyCmd(app *App) *cobra.Command {
	o := VDBCreateEmptyOptions{}
	cmd := &cobra.Command{
		Use:   "create-empty NAME --environment ENV --repository REPO --params JSON|@FILE",
		Short: "Create an empty VDB: the plugin's virtual.initialize makes its dataset",
		Long: `Create-empty makes a VDB without a snapshot: the engine gives it empty
storage, runs the plugin's virtual mount specification, mounts the storage on
the environment and runs virtual.initialize, whose source config becomes the
VDB's (as "Create empty VDB" does on a Delphix Engine). The parameters are
validated against the plugin's virtualSourceDefinition first. A plugin
without the initialize operation is refused. A VDB that fails to initialize
is removed. The VDB's reference is printed.

An empty VDB has no dSource: refresh needs --snapshot; snapshot, rollback,
start, stop, enable, disable, status and delete work as for any VDB.`,
		Example: `  dvp vdb create-empty vdb0 --environment target --repository "Repository for our First Plugin" --params '{"mountLocation": "/mnt/vdb0"}'`,
		Args:    cobra.ExactArgs(1),
		RunE: objectRunE(app, &o.ObjectOptions, func(*cobra.Command, []string) error {
			if o.Environment == "" || o.Repository == "" {
				return Usagef("Missing option: create-empty needs --environment and --repository.")
			}
			var err error
			o.params, err = readParams("--params", o.Params)
			return err
		}, func(ctx context.Context, c *engineclient.Client, args []string) error {
			s, err := c.CreateEmptyVDB(ctx, engineapi.EmptyVDBParameters{Name: args[0], Environment: o.Environment, Repository: o.Repository, Parameters: o.params})
			return printJob(ctx, app, &o.ObjectOptions, c, s, err)
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	f := cmd.Flags()
	f.StringVar(&o.Environment, "environment", "", "the target environment")
	f.StringVar(&o.Repository, "repository", "", "the repository on the target (its name there, or its reference)")
	f.StringVar(&o.Params, "params", "", "the VDB's parameters (virtualSourceDefinition): a JSON object, or @FILE")
	return cmd
}
