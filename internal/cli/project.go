package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// Project discovery: a command that needs plugin_config.yml and was not
// given -c looks for it in the working directory and then in each parent,
// as the go command finds go.mod, and says at -v which one it uses.

// configFileName is the file that marks a project's root.
const configFileName = "plugin_config.yml"

// findProjectConfig resolves the -c flag (flag) of cmd in place. With -c
// given, or no plugin_config.yml above cwd, it leaves *path as it is (the
// flag's checks report a missing file); else *path becomes the nearest
// one, and dir its directory when that is not cwd.
func findProjectConfig(app *App, cmd *cobra.Command, flag, cwd string, path *string) (dir string) {
	if f := cmd.Flags().Lookup(flag); f == nil || f.Changed || *path != configFileName || cwd == "" {
		return ""
	}
	for d := cwd; ; {
		candidate := filepath.Join(d, configFileName)
		if st, err := os.Stat(candidate); err == nil && !st.IsDir() {
			app.Log.Info(fmt.Sprintf("Using the project's %s (%s).", configFileName, candidate))
			if d == cwd {
				return ""
			}
			*path = candidate
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// missingConfig is the usage error of a command that found no
// plugin_config.yml in cwd or above it.
func missingConfig(short, long, cwd string) error {
	return Usagef("Invalid value for '%s' / '%s': File '%s' does not exist, in %s or any directory above it. Run 'dvp init' to create a project, or give %s.", short, long, configFileName, cwd, short)
}

// checkConfigFlag checks the -c flag of cmd once discovery has run: a
// missing default is missingConfig, anything else checkExistingFile's.
func checkConfigFlag(cmd *cobra.Command, cwd, path string) error {
	if !cmd.Flags().Changed("plugin-config") && path == configFileName {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return missingConfig("-c", "--plugin-config", cwd)
		}
	}
	return checkExistingFile("-c", "--plugin-config", path)
}
