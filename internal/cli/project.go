package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// Project discovery: a command that needs plugin_config.yml and was not
// given -c looks for it in the working directory and then in each parent,
// as the go command finds go.mod, and says at -v which one it uses. When
// the working directory was reached through a symbolic link, the parents
// of the directory it links to are searched too. dvp test finds
// dvptest.yml, and dvp upload the project's artifact.json, the same way.

// configFileName is the file that marks a project's root.
const configFileName = "plugin_config.yml"

// findUp returns the nearest file called name in cwd or a parent of it
// (the parents of cwd as given, then those of the directory it resolves to
// through symbolic links), or "".
func findUp(cwd, name string) string {
	dirs := []string{cwd}
	if real, err := filepath.EvalSymlinks(cwd); err == nil && real != cwd {
		dirs = append(dirs, real)
	}
	for _, start := range dirs {
		for d := start; ; {
			candidate := filepath.Join(d, name)
			if st, err := os.Stat(candidate); err == nil && !st.IsDir() {
				return candidate
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return ""
}

// discoverProjectFile resolves a flag naming a file of a project (-c:
// plugin_config.yml, dvp test's -f: dvptest.yml) in place. Given, or with
// no file called name in cwd or above it, it leaves *path as it is (the
// flag's checks report a missing file); else *path becomes the nearest
// one, and dir its directory when that is not cwd.
func discoverProjectFile(app *App, given bool, cwd, name string, path *string) (dir string) {
	if given || *path != name || cwd == "" {
		return ""
	}
	candidate := findUp(cwd, name)
	if candidate == "" {
		return ""
	}
	app.Log.Info(fmt.Sprintf("Using the project's %s (%s).", name, candidate))
	if d := filepath.Dir(candidate); d != cwd {
		*path = candidate
		return d
	}
	return ""
}

// missingConfig is the usage error of a command that found no
// plugin_config.yml in cwd or above it: click's sentence, as dvp prints it
// for its default -c, then where dvp in Go looked.
func missingConfig(short, long, cwd string) error {
	return Usagef("Invalid value for '%s' / '%s': File '%s' does not exist. dvp looked in %s and in every directory above it: run 'dvp init' to create a project, or give %s.", short, long, configFileName, cwd, short)
}

// checkConfigPath checks -c (given or not) once discovery has run: a
// missing default is missingConfig, anything else checkExistingFile's.
func checkConfigPath(given bool, cwd, path string) error {
	if !given && path == configFileName {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return missingConfig("-c", "--plugin-config", cwd)
		}
	}
	return checkExistingFile("-c", "--plugin-config", path)
}

// findProjectArtifact resolves dvp upload's default -a: artifact.json in
// the working directory, else in the directory of the nearest
// plugin_config.yml above it, where dvp build run from anywhere in the
// project writes it.
func findProjectArtifact(app *App, cmd *cobra.Command, path *string) {
	if cmd.Flags().Changed("upload-artifact") || *path != "artifact.json" {
		return
	}
	if _, err := os.Stat(*path); err == nil {
		return
	}
	cwd, err := app.IO.Getwd()
	if err != nil {
		return
	}
	cfg := findUp(cwd, configFileName)
	if cfg == "" {
		return
	}
	candidate := filepath.Join(filepath.Dir(cfg), *path)
	if _, err := os.Stat(candidate); err == nil {
		app.Log.Info(fmt.Sprintf("Using the project's artifact (%s).", candidate))
		*path = candidate
	}
}
