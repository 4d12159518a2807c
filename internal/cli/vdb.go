package cli

import (
	"context"
	"encoding/json"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/spf13/cobra"
)

// VDBProvisionOptions are the inputs of dvp vdb provision.
type VDBProvisionOptions struct {
	ObjectOptions
	Snapshot    string
	Environment string
	Repository  string
	Params      string
	Hooks       []string
	Policy      PolicyOptions

	// What the flags name, read once when they are checked.
	params json.RawMessage
	hooks  engineapi.HookOperations
}

func newVDBCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vdb",
		Short: "Provision and manage VDBs",
		Long: `A VDB is a writable copy of a snapshot, mounted on a target environment and
configured by the plugin.`,
		Args: cobra.NoArgs,
	}
	app.addGroupCommands(cmd, func() {
		cmd.AddCommand(newVDBProvisionCmd(app), newVDBCreateEmptyCmd(app), newUpdateCmd(app, engineapi.ContainerVDB),
			newContainerListCmd(app, engineapi.ContainerVDB, "VDBs", "VDB", "No VDBs."))
		for _, op := range engineapi.ContainerOps {
			if op.AppliesTo(engineapi.ContainerVDB) {
				cmd.AddCommand(newContainerOpCmd(app, op.Name, "VDB"))
			}
		}
	})
	return cmd
}

func newVDBProvisionCmd(app *App) *cobra.Command {
	o := VDBProvisionOptions{}
	cmd := &cobra.Command{
		Use:   "provision NAME --snapshot SNAP --environment ENV [--repository REPO] --params JSON|@FILE",
		Short: "Provision a VDB from a snapshot",
		Long: `Provision makes a writable copy of the snapshot, runs the plugin's virtual
mount specification, mounts the copy on the target environment and runs
configure. The parameters are validated against the plugin's
virtualSourceDefinition first. The VDB's reference is printed.

` + hookLong(engineapi.ContainerVDB) + `

` + policyHelp("refresh"),
		Example: `  dvp vdb provision vdb1 --snapshot APPDATA_SNAPSHOT-7 --environment staging --params '{"mountLocation": "/mnt/vdb1"}'
  dvp vdb provision vdb2 --snapshot APPDATA_SNAPSHOT-7 --environment staging --params @vdb2.json --refresh-every 24h`,
		Args: cobra.ExactArgs(1),
		RunE: objectRunE(app, &o.ObjectOptions, func(cmd *cobra.Command, _ []string) error {
			if o.Snapshot == "" || o.Environment == "" {
				return Usagef("Missing option: provision needs --snapshot and --environment.")
			}
			var err error
			if o.params, err = readParams("--params", o.Params); err != nil {
				return err
			}
			if o.hooks, err = parseHooks(o.Hooks, engineapi.ContainerVDB, false); err != nil {
				return err
			}
			return o.Policy.check(cmd)
		}, func(ctx context.Context, c *engineclient.Client, args []string) error {
			s, err := c.Provision(ctx, engineapi.ProvisionParameters{
				Name: args[0], Snapshot: o.Snapshot, Environment: o.Environment, Repository: o.Repository, Parameters: o.params, Operations: o.hooks, Policy: o.Policy.parsed,
			})
			return printJob(ctx, app, &o.ObjectOptions, c, s, err)
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	f := cmd.Flags()
	f.StringVar(&o.Snapshot, "snapshot", "", "the snapshot to provision from (reference)")
	f.StringVar(&o.Environment, "environment", "", "the target environment")
	f.StringVar(&o.Repository, "repository", "", "the repository on the target (default: the plugin's first one there)")
	f.StringVar(&o.Params, "params", "", "the VDB's parameters (virtualSourceDefinition): a JSON object, or @FILE")
	addHookFlag(cmd, &o.Hooks, engineapi.ContainerVDB, false)
	addPolicyFlags(cmd, &o.Policy, "refresh")
	return cmd
}
