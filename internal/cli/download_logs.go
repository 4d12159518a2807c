package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dvpkit/dvp/internal/config"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/upload"
	"github.com/spf13/cobra"
)

// DownloadLogsOptions are the inputs of dvp download-logs.
type DownloadLogsOptions struct {
	ConnectionOptions
	ConfigPath string
	Directory  string
	// ConfigGiven and DirectoryGiven: -c and -d were given;
	// DirectoryFirst: -d is checked before -c (given first, or alone).
	ConfigGiven, DirectoryGiven, DirectoryFirst bool
}

func newDownloadLogsCmd(app *App) *cobra.Command {
	opts := DownloadLogsOptions{}
	cmd := &cobra.Command{
		Use:   "download-logs",
		Short: "Download the plugin's logs from an engine",
		Long: `Download-logs logs in to an engine, finds the plugin of plugin_config.yml
(by its id), has the engine bundle the plugin's logs, and writes the bundle
to DIRECTORY/dlpx-plugin-logs-<plugin name>-<token>.tar.gz (the name made
safe for a file name). The path of the file is printed on stdout.

Engine, user and password are found as for 'dvp upload'.`,
		Example: `  dvp download-logs -e http://127.0.0.1:8780 -u admin -d /tmp`,
		Args:    cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			opts.ConfigGiven, opts.DirectoryGiven = cmd.Flags().Changed("plugin-config"), cmd.Flags().Changed("directory")
			opts.DirectoryFirst = firstChecked(cmd, app.Args, "directory", "plugin-config")
			checkPaths := sync.OnceValue(func() error { return opts.checkPaths(app) })
			// As click: options given are checked before those left to
			// their defaults (the engine and the user).
			if opts.ConfigGiven || opts.DirectoryGiven {
				if err := checkPaths(); err != nil {
					return err
				}
			}
			conn, err := resolveConnection(cmd.Context(), app, cmd, &opts.ConnectionOptions, checkPaths)
			if err != nil {
				return err
			}
			return runDownloadLogs(cmd.Context(), app, opts, conn)
		}),
	}
	addConnectionFlags(cmd, &opts.ConnectionOptions)
	f := cmd.Flags()
	f.StringVarP(&opts.ConfigPath, "plugin-config", "c", "plugin_config.yml", "the plugin config file naming the plugin (id and name)")
	f.StringVarP(&opts.Directory, "directory", "d", "", "where to write the logs (default: the current directory)")
	return cmd
}

// checkPaths finds the project (without -c) and checks -c and -d, as
// click does: the options given, in the order given, then the defaults.
func (opts *DownloadLogsOptions) checkPaths(app *App) error {
	cwd, err := app.IO.Getwd()
	if err != nil {
		return err
	}
	discoverProjectFile(app, opts.ConfigGiven, cwd, configFileName, &opts.ConfigPath)
	if opts.Directory == "" && !opts.DirectoryGiven {
		opts.Directory = cwd
	}
	checks := []func() error{
		func() error { return checkConfigPath(opts.ConfigGiven, cwd, opts.ConfigPath) },
		func() error { return checkWritableDir("-d", "--directory", opts.Directory) },
	}
	if opts.DirectoryFirst {
		checks[0], checks[1] = checks[1], checks[0]
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// checkWritableDir applies click.Path(exists=True, file_okay=False,
// writable=True) to a directory flag.
func checkWritableDir(short, long, dir string) error {
	if dir == "" {
		// click resolves '' to the current directory, then asks
		// os.access('') whether it is writable: it is not.
		return Usagef("Invalid value for '%s' / '%s': Directory '' is not writable.", short, long)
	}
	st, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return Usagef("Invalid value for '%s' / '%s': Directory '%s' does not exist.", short, long, dir)
	case err != nil:
		return Usagef("Invalid value for '%s' / '%s': Directory '%s' cannot be read: %v.", short, long, dir, err)
	case !st.IsDir():
		return Usagef("Invalid value for '%s' / '%s': Directory '%s' is a file.", short, long, dir)
	}
	// Writable is what creating a file in it says (portable, and true to ACLs).
	f, err := os.CreateTemp(dir, ".dvp-write-check-*")
	if err != nil {
		return Usagef("Invalid value for '%s' / '%s': Directory '%s' is not writable.", short, long, dir)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

func runDownloadLogs(ctx context.Context, app *App, opts DownloadLogsOptions, conn *connection) error {
	cfg, problems := config.LoadSettings(opts.ConfigPath)
	// As dvp does, a config with problems is only warned about: the id and
	// the name are all download-logs needs (schemaFile and srcDir are not
	// looked for).
	abs, err := filepath.Abs(opts.ConfigPath)
	if err != nil {
		abs = opts.ConfigPath
	}
	for _, p := range problems {
		if p.Severity == diag.Error || p.Severity == diag.Warning {
			// dvp's words, naming the file by its absolute path as dvp does.
			app.Log.Warn(fmt.Sprintf("Validation failed on plugin file %s : %s", abs, p.String()))
		}
	}
	if cfg == nil || strings.TrimSpace(cfg.ID) == "" {
		return Userf("Cannot download the logs: %s does not give the plugin's id.", opts.ConfigPath)
	}
	client, err := newClient(app, &opts.ConnectionOptions, conn)
	if err != nil {
		return err
	}
	up := &upload.Client{Engine: client, Progress: progress(app)}
	path, err := up.DownloadLogs(ctx, upload.DownloadLogsOptions{
		User: conn.user, Password: conn.password, PluginID: cfg.ID, PluginName: cfg.Name,
		Directory: opts.Directory, EngineName: conn.engine,
	})
	if err != nil {
		return mapEngineError(err)
	}
	fmt.Fprintln(app.resultOut(), path)
	return nil
}
