package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/spf13/cobra"
)

// DSourceLinkOptions are the inputs of dvp dsource link.
type DSourceLinkOptions struct {
	ObjectOptions
	SourceConfig       string
	StagingEnvironment string
	Params             string
	SnapshotParams     string
	Hooks              []string
	Policy             PolicyOptions

	// What the flags name, read once when they are checked.
	params, snapshotParams json.RawMessage
	hooks                  engineapi.HookOperations
}

// DSourceSyncOptions are the inputs of dvp dsource sync.
type DSourceSyncOptions struct {
	ObjectOptions
	Resync bool
	Params string

	params json.RawMessage // --params, read once when checked
}

func newDSourceCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dsource",
		Short: "Link, sync and manage dSources",
		Long: `A dSource is a dataset linked from a source config; each sync ingests its data
(for a STAGED plugin, onto the staging environment's mount) and keeps an
independent snapshot of it on the engine.`,
		Args: cobra.NoArgs,
	}
	app.addGroupCommands(cmd, func() {
		cmd.AddCommand(newDSourceLinkCmd(app), newDSourceSyncCmd(app), newDSourceListCmd(app), newUpdateCmd(app, engineapi.ContainerDSource))
		for _, op := range engineapi.ContainerOps {
			if op.Name != "sync" && op.AppliesTo(engineapi.ContainerDSource) { // sync has its own command
				cmd.AddCommand(newContainerOpCmd(app, op.Name, "dSource"))
			}
		}
	})
	return cmd
}

func newDSourceLinkCmd(app *App) *cobra.Command {
	o := DSourceLinkOptions{}
	cmd := &cobra.Command{
		Use:   "link NAME --source-config SC [--staging-environment ENV] --params JSON|@FILE [--sync-every DURATION|--sync-schedule CRON] [--keep-snapshots N]",
		Short: "Link a dSource and run its first sync",
		Long: `Link creates a dSource from a source config, with parameters validated against
the plugin's linkedSourceDefinition before anything runs, and runs its first
sync (a resync), printing the job's events. The dSource's reference is printed.

` + hookLong(engineapi.ContainerDSource) + `

` + policyHelp("sync"),
		Example: `  dvp dsource link ds1 --source-config data --staging-environment staging \
      --params '{"sourceAddress": "10.0.0.5", "username": "delphix", "mountLocation": "/mnt/ds1"}'
  dvp dsource link ds2 --source-config data --params @ds2.json --sync-schedule '0 2 * * *' --keep-snapshots 7`,
		Args: cobra.ExactArgs(1),
		RunE: objectRunE(app, &o.ObjectOptions, func(cmd *cobra.Command, _ []string) error {
			if o.SourceConfig == "" {
				return Usagef("Missing option '--source-config'.")
			}
			var err error
			if o.params, err = readParams("--params", o.Params); err != nil {
				return err
			}
			snapshotParams, err := readParams("--snapshot-params", o.SnapshotParams)
			if err != nil {
				return err
			}
			if o.SnapshotParams != "" {
				o.snapshotParams = snapshotParams
			}
			if o.hooks, err = parseHooks(o.Hooks, engineapi.ContainerDSource, false); err != nil {
				return err
			}
			return o.Policy.check(cmd)
		}, func(ctx context.Context, c *engineclient.Client, args []string) error {
			p := engineapi.LinkParameters{Name: args[0], SourceConfig: o.SourceConfig, StagingEnvironment: o.StagingEnvironment}
			p.Operations, p.Policy = o.hooks, o.Policy.parsed
			p.Parameters, p.SnapshotParameters = o.params, o.snapshotParams
			s, err := c.LinkDSource(ctx, p)
			return printJob(ctx, app, &o.ObjectOptions, c, s, err)
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	f := cmd.Flags()
	f.StringVar(&o.SourceConfig, "source-config", "", "the source config to link (name or reference)")
	f.StringVar(&o.StagingEnvironment, "staging-environment", "", "STAGED plugins: the staging environment (default: the source config's)")
	f.StringVar(&o.Params, "params", "", "the dSource's parameters (linkedSourceDefinition): a JSON object, or @FILE")
	f.StringVar(&o.SnapshotParams, "snapshot-params", "", "the first sync's snapshot parameters: a JSON object, or @FILE")
	addHookFlag(cmd, &o.Hooks, engineapi.ContainerDSource, false)
	addPolicyFlags(cmd, &o.Policy, "sync")
	return cmd
}

func newDSourceSyncCmd(app *App) *cobra.Command {
	o := DSourceSyncOptions{}
	cmd := &cobra.Command{
		Use:   "sync NAME [--resync] [--params JSON|@FILE]",
		Short: "Sync a dSource: ingest its data and take a snapshot",
		Long: `Sync runs the sync workflow (STAGED: mount specification, mount, pre-snapshot,
snapshot, post-snapshot; DIRECT: pre-snapshot, snapshot, post-snapshot) and
prints the new snapshot's reference on stdout (-o json: the report, with the
whole snapshot as "snapshot"). --params are the snapshot parameters
(snapshotParametersDefinition); --resync sets their resync flag when the
plugin's schema declares one.`,
		Example: `  snap=$(dvp dsource sync ds1) && dvp vdb provision vdb1 --snapshot "$snap" --environment target --params @vdb.json`,
		Args:    cobra.ExactArgs(1),
		RunE: objectRunE(app, &o.ObjectOptions, func(*cobra.Command, []string) error {
			params, err := readParams("--params", o.Params)
			if o.Params != "" {
				o.params = params
			}
			return err
		}, func(ctx context.Context, c *engineclient.Client, args []string) error {
			p := engineapi.ContainerOpParameters{Resync: o.Resync, SnapshotParameters: o.params}
			s, err := c.Sync(ctx, args[0], p)
			if err != nil {
				return mapEngineError(err)
			}
			return printJobResult(ctx, app, &o.ObjectOptions, c, s, newSnapshotResult(args[0]))
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	f := cmd.Flags()
	f.BoolVar(&o.Resync, "resync", false, "re-ingest everything (a resync)")
	f.StringVar(&o.Params, "params", "", "snapshot parameters: a JSON object, or @FILE")
	return cmd
}

func newDSourceListCmd(app *App) *cobra.Command {
	return newContainerListCmd(app, "", "dSources and VDBs", "dSource and VDB", "No dSources or VDBs.")
}

// newContainerListCmd lists the containers of one type ("" for both):
// dvp dsource list lists both, dvp vdb list the VDBs.
func newContainerListCmd(app *App, containerType, plural, each, empty string) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the " + plural,
		Long: `List prints one line per ` + each + `: reference, name, type, runtime
status, whether it is enabled and its size in bytes as the plugin's
source_size last measured it ("-" when unknown) (a header row on a terminal;
--output json for the whole objects, with "size" and "sizeError").`,
		Args: cobra.NoArgs,
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			cs, err := c.ListContainers(ctx)
			if containerType != "" {
				cs = slices.DeleteFunc(cs, func(c engineapi.Container) bool { return c.ContainerType != containerType })
			}
			return printList(app, &o, cs, err, listColumns{Header: []string{"REFERENCE", "NAME", "TYPE", "STATUS", "ENABLED", "SIZE"}, Empty: empty}, func(c engineapi.Container) []any {
				size := "-" // not measured (the plugin has no source_size), or it failed
				if c.Size != nil {
					size = strconv.FormatInt(*c.Size, 10)
				}
				return []any{c.Reference, c.Name, c.ContainerType, c.Runtime, c.Enabled, size}
			})
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

// ContainerOpOptions are the inputs of the dsource and vdb operations
// without parameters of their own.
type ContainerOpOptions struct {
	ObjectOptions
	Snapshot string
	Force    bool // delete: even when the plugin's clean-up fails
}

func newContainerOpCmd(app *App, op, kind string) *cobra.Command {
	o := ContainerOpOptions{}
	short, long := containerOpHelp(op, kind)
	cmd := &cobra.Command{
		Use:   op + " NAME",
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
		RunE: objectRunE(app, &o.ObjectOptions, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			if op == "delete" {
				ct, err := c.GetContainer(ctx, args[0])
				if err != nil {
					return mapEngineError(err)
				}
				return runDelete(ctx, app, &o.ObjectOptions, c, DeletedObject{Type: containerNameOf(ct.ContainerType), Reference: ct.Reference, Name: ct.Name},
					"Deleted "+containerNameOf(ct.ContainerType)+" "+ct.Name+".",
					func() (*engineclient.Started, error) {
						return c.ContainerOp(ctx, ct.Reference, op, engineapi.ContainerOpParameters{Force: o.Force})
					})
			}
			s, err := c.ContainerOp(ctx, args[0], op, engineapi.ContainerOpParameters{Snapshot: o.Snapshot, Force: o.Force})
			if err != nil {
				return mapEngineError(err)
			}
			var result jobResult // what the command prints: the reference, else
			switch op {
			case "status":
				result = withHooks(app, &o.ObjectOptions, statusResult)
			case "snapshot":
				result = newSnapshotResult(args[0])
			}
			return printJobResult(ctx, app, &o.ObjectOptions, c, s, result)
		}),
	}
	addObjectFlags(cmd, &o.ObjectOptions)
	if op == "refresh" || op == "rollback" {
		cmd.Flags().StringVar(&o.Snapshot, "snapshot", "", "the snapshot to use (reference)")
	}
	if op == "delete" {
		cmd.Flags().BoolVar(&o.Force, "force", false, "remove the "+kind+" even when the plugin's clean-up fails (the job says what it skipped)")
	}
	return cmd
}

// containerOpHelp is the short and long help of the operation op of a
// dSource or VDB (kind: "dSource" or "VDB").
func containerOpHelp(op, kind string) (short, long string) {
	short = map[string]string{
		"enable": "Enable the " + kind, "disable": "Disable the " + kind, "status": "Ask the plugin for the " + kind + "'s status",
		"delete": "Delete the " + kind + " with its storage and snapshots", "refresh": "Refresh the VDB from its dSource's newest snapshot (or --snapshot)",
		"rollback": "Roll the VDB back to its newest snapshot (or --snapshot)", "snapshot": "Take a snapshot of the VDB",
		"start": "Start the VDB", "stop": "Stop the VDB",
	}[op]
	long = map[string]string{
		"status": `Status asks the plugin (` + map[string]string{"dSource": "linked.status", "VDB": "virtual.status"}[kind] + `) whether the ` + kind + ` is running, records
the answer and prints it on stdout: ACTIVE, INACTIVE or UNKNOWN (-o json: the
report, with it as "status"). The ` + kind + `'s hooks follow on stderr (-o json:
"operations"), and its policy's next run when it has one (-o json: "policy",
with "nextRun").`,
		"snapshot": `Snapshot runs the VDB's pre-snapshot operation, copies its storage into a new
snapshot and runs its post-snapshot operation; the new snapshot's reference
is printed on stdout (-o json: the report, with the whole snapshot as
"snapshot").`,
		"delete": map[string]string{
			"dSource": `Delete runs the plugin's linked.stop_staging, unmounts and removes the
dSource's storage and snapshots. It is refused while the dSource has VDBs;
--force goes on when the plugin's clean-up fails.`,
			"VDB": `Delete runs the plugin's virtual.unconfigure and virtual.cleanup, unmounts
and removes the VDB's storage, snapshots and source config; --force goes on
when the plugin's clean-up fails.`}[kind] + `

` + deleteOutputHelp,
	}[op]
	return short, long
}
