package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/termsafe"
	"github.com/spf13/cobra"
)

func newToolkitCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "toolkit",
		Aliases: []string{"plugin"},
		Short:   "List, show and delete the plugins installed on an engine",
		Long: `A toolkit is a plugin installed on an engine by 'dvp upload'. A plugin is
named by its reference (APPDATA_TOOLKIT-1), its id (plugin_config.yml's id)
or its name.`,
		Args: cobra.NoArgs,
	}
	app.addGroupCommands(cmd, func() {
		cmd.AddCommand(newToolkitListCmd(app), newToolkitShowCmd(app), newToolkitDeleteCmd(app))
	})
	return cmd
}

func newToolkitListCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the installed plugins",
		Long: `List prints one line per installed plugin: reference, name, id, build number
and the hosts it supports (--output json for the objects).`,
		Example: `  dvp toolkit list -e http://127.0.0.1:8780 -u admin`,
		Args:    cobra.NoArgs,
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, _ []string) error {
			items, err := c.ListToolkits(ctx)
			return printList(app, &o, items, err, listColumns{Header: []string{"REFERENCE", "NAME", "ID", "BUILD", "HOSTS"}, Empty: "No plugins are installed: upload one with dvp upload."}, func(t engineapi.Toolkit) []any {
				return []any{t.Reference, t.Name, t.Identifier, t.BuildNumber, strings.Join(t.HostTypes, ",")}
			})
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

func newToolkitShowCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "show PLUGIN",
		Short: "Show an installed plugin",
		Args:  cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			t, err := findToolkit(ctx, c, args[0])
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return writeJSON(app, t)
			}
			version := ""
			if t.Version != nil {
				version = *t.Version
			}
			w := app.resultOut()
			for _, kv := range [][2]string{
				{"reference", t.Reference}, {"name", t.Name}, {"id", t.Identifier}, {"build number", t.BuildNumber},
				{"version", version}, {"language", t.Language}, {"host types", strings.Join(t.HostTypes, ", ")},
				{"entry point", t.EntryPoint}, {"artifact sha256", t.ArtifactSHA256},
				{"installed", t.InstalledTime}, {"updated", t.UpdatedTime},
			} {
				if kv[1] != "" {
					fmt.Fprintf(w, "%-16s %s\n", kv[0]+":", termsafe.String(kv[1]))
				}
			}
			return nil
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

func newToolkitDeleteCmd(app *App) *cobra.Command {
	o := ObjectOptions{}
	cmd := &cobra.Command{
		Use:   "delete PLUGIN",
		Short: "Delete an installed plugin no environment object uses",
		Long: `Delete removes an installed plugin, named by its reference, id or name. It
is refused while a dSource, VDB or added source config of the plugin exists:
the refusal names them and the commands that delete them. The repositories
and source configs the plugin discovered are deleted with it.

` + deleteOutputHelp,
		Example: `  dvp toolkit delete my-plugin`,
		Args:    cobra.ExactArgs(1),
		RunE: objectRunE(app, &o, nil, func(ctx context.Context, c *engineclient.Client, args []string) error {
			t, err := findToolkit(ctx, c, args[0])
			if err != nil {
				return err
			}
			msg := fmt.Sprintf("Deleted the plugin %s (%s, build %s).", t.Name, t.Reference, t.BuildNumber)
			return runDelete(ctx, app, &o, c, DeletedObject{Type: "plugin", Reference: t.Reference, Name: t.Name}, msg,
				func() (*engineclient.Started, error) { return c.DeleteToolkit(ctx, t.Reference) })
		}),
	}
	addObjectFlags(cmd, &o)
	return cmd
}

// findToolkit finds an installed plugin by reference, id or name: exactly
// one must match.
func findToolkit(ctx context.Context, c *engineclient.Client, key string) (*engineapi.Toolkit, error) {
	items, err := c.ListToolkits(ctx)
	if err != nil {
		return nil, mapEngineError(err)
	}
	var found []engineapi.Toolkit
	for _, t := range items {
		if t.Reference == key || t.Identifier == key || t.Name == key {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 1:
		return &found[0], nil
	case 0:
		var names []string
		for _, t := range items {
			names = append(names, t.Name)
		}
		msg := fmt.Sprintf("No plugin %q is installed on this engine.", key)
		if s := closest(key, names); s != "" {
			msg += fmt.Sprintf(" Did you mean %q?", s)
		}
		return nil, Userf("%s 'dvp toolkit list' lists the installed plugins.", termsafe.String(msg))
	}
	var refs []string
	for _, t := range found {
		refs = append(refs, t.Reference)
	}
	return nil, Userf("%q names %d installed plugins (%s): give the reference.", termsafe.String(key), len(found), strings.Join(refs, ", "))
}
