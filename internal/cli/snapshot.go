package cli

import (
	"context"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/spf13/cobra"
)

func newSnapshotCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "List the snapshots of dSources and VDBs",
		Args:  cobra.NoArgs,
	}
	app.addGroupCommands(cmd, func() { cmd.AddCommand(newSnapshotListCmd(app)) })
	return cmd
}

func newSnapshotListCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	list := &cobra.Command{
		Use:   "list NAME",
		Short: "List the snapshots of a dSource or VDB, oldest first",
		Long: `List prints one line per snapshot of the dSource or VDB NAME (its name or
reference): reference, time, resync flag and the plugin's snapshot
definition (a header row on a terminal; --output json for the whole
objects).`,
		Example: `  dvp snapshot list ds1
  dvp snapshot list vdb1 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			snaps, err := c.ListSnapshots(ctx, args[0])
			return printList(app, &o, snaps, err, listColumns{Header: []string{"REFERENCE", "TIME", "RESYNC", "METADATA"}, Empty: "No snapshots of " + args[0] + "."}, func(s engineapi.Snapshot) []any {
				return []any{s.Reference, s.Timestamp, s.Resync, s.Metadata}
			})
		}),
	}
	addObjectFlags(list, &o)
	return list
}
