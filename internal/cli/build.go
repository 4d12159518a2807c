package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/build"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/spf13/cobra"
)

// BuildOptions are the inputs of dvp build.
type BuildOptions struct {
	ConfigPath   string
	ArtifactPath string
	GenerateOnly bool
	Check        bool
	Baseline     string
	Output       string
	// ConfigGiven and ArtifactGiven: -c and -a were given (else the
	// project is looked for above the working directory, and the
	// artifact goes next to its plugin_config.yml).
	ConfigGiven, ArtifactGiven bool
	// Cwd is the working directory (Build sets it).
	Cwd string
}

func newBuildCmd(app *App) *cobra.Command {
	opts := BuildOptions{}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Validate the project, generate Go types from schema.json, and build the artifact",
		Long: `Build validates plugin_config.yml and schema.json, generates the Go types of
schema.json into <srcDir>/generated (package generated), compiles the plugin
for linux/amd64, reads its operations and migrations from the compiled plugin,
checks them, and writes the upload artifact (artifact.json) atomically: on any
error the previous artifact is left as it was. Building twice from the same
inputs writes the same bytes. The Go toolchain (go on PATH) compiles the
plugin, offline.

With --baseline it also checks that the new build can upgrade the released
one: the build number must not decrease and no released migration id may
disappear (errors); a changed schema without a new migration of that object
kind is a warning.

With -g (--generate-only) it validates and generates only: problems with the
project that do not stop generation are reported as warnings. With --check it
writes nothing and exits 1 when the generated code on disk is stale (for CI).`,
		Example: `  dvp build
  dvp build -a build/artifact.json --baseline release/artifact.json
  dvp build -g
  dvp build -g --check`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			// Which of the two dvp checks first depends on their order.
			if err := mutuallyExclusive(cmd, app.Args, []string{"upload-artifact", "generate-only"}); err != nil {
				return err
			}
			opts.ConfigGiven = cmd.Flags().Changed("plugin-config")
			opts.ArtifactGiven = cmd.Flags().Changed("upload-artifact")
			return Build(cmd.Context(), app, opts)
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&opts.ConfigPath, "plugin-config", "c", "plugin_config.yml", "the plugin config file")
	f.StringVarP(&opts.ArtifactPath, "upload-artifact", "a", "artifact.json", "where to write the artifact (not with -g)")
	f.BoolVarP(&opts.GenerateOnly, "generate-only", "g", false, "only validate and generate code (not with -a)")
	f.BoolVar(&opts.Check, "check", false, "with -g: write nothing, exit 1 when the generated code is stale")
	f.StringVarP(&opts.Baseline, "baseline", "b", "", "the artifact.json of the released build: check that this build upgrades it safely")
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

// Build is dvp build once its flags are parsed: it checks the options,
// finds the project and builds (runBuild) or, with -g, generates
// (runGenerate).
func Build(ctx context.Context, app *App, opts BuildOptions) error {
	if err := checkOutputFlag(&opts.Output); err != nil {
		return err
	}
	if opts.Check && !opts.GenerateOnly {
		return Usagef("--check goes with -g/--generate-only.")
	}
	cwd, err := app.IO.Getwd()
	if err != nil {
		return err
	}
	opts.Cwd = cwd
	if dir := discoverProjectFile(app, opts.ConfigGiven, cwd, configFileName, &opts.ConfigPath); dir != "" && !opts.ArtifactGiven {
		opts.ArtifactPath = filepath.Join(dir, opts.ArtifactPath)
	}
	if err := checkConfigPath(opts.ConfigGiven, cwd, opts.ConfigPath); err != nil {
		return err
	}
	if opts.GenerateOnly {
		if opts.Baseline != "" {
			return Usagef("--baseline does not go with -g/--generate-only.")
		}
		return runGenerate(app, opts)
	}
	if err := checkArtifactPath(opts.ArtifactPath); err != nil {
		return err
	}
	if opts.Baseline != "" {
		if err := checkExistingFile("-b", "--baseline", opts.Baseline); err != nil {
			return err
		}
	}
	return runBuild(ctx, app, opts)
}

// GenerateReport is the JSON form of dvp build -g's result.
type GenerateReport struct {
	OK       bool           `json:"ok"`
	Dir      string         `json:"dir,omitempty"`
	Files    []string       `json:"files"`
	Stale    *bool          `json:"stale,omitempty"`
	Problems []diag.Problem `json:"problems"`
}

func runGenerate(app *App, opts BuildOptions) error {
	out := app.resultOut()
	res := build.Generate(build.GenerateOptions{ConfigPath: opts.ConfigPath, Check: opts.Check})
	problems := relativize(res.Problems, opts.Cwd)
	problems.Sort()
	sort.Strings(res.Files)
	ok := !res.Failed() && !(opts.Check && res.Stale)
	if opts.Output == "json" {
		rep := GenerateReport{OK: ok, Dir: displayPath(res.Dir, opts.Cwd), Files: res.Files, Problems: problems}
		if rep.Files == nil {
			rep.Files = []string{}
		}
		if rep.Problems == nil {
			rep.Problems = diag.List{}
		}
		if opts.Check {
			rep.Stale = &res.Stale
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		app.printProblems(problems)
		switch {
		case res.Failed():
			// As a full build ends, and as dvp's -g ends when its code
			// generation fails.
			fmt.Fprintf(app.messageOut(), "\n%s%s.\n", problems.Summary(), inFiles(problems))
			fmt.Fprintln(out, "\nBUILD FAILED.")
		case opts.Check && res.Stale:
			fmt.Fprintf(out, "The generated code in %s is stale: run 'dvp build -g'.\n", displayPath(res.Dir, opts.Cwd))
		case opts.Check:
			fmt.Fprintf(out, "The generated code in %s is up to date.\n", displayPath(res.Dir, opts.Cwd))
		default:
			files := make([]string, 0, len(res.Demoted))
			for f := range res.Demoted {
				files = append(files, f)
			}
			sort.Strings(files)
			for _, f := range files {
				// dvp's words for a project that fails validation under -g,
				// naming the file by its absolute path, as dvp does.
				abs := f
				if !filepath.IsAbs(abs) {
					abs = filepath.Join(opts.Cwd, abs)
				}
				fmt.Fprintf(app.messageOut(), "Validation failed on plugin file %s : %d error(s) of a full build, reported above as warnings; generating anyway.\n", abs, res.Demoted[f])
			}
			// Silent without problems unless -v, as dvp's -g (its one line
			// is at INFO level: dvp's sentence, of Go code).
			if app.Verbose > 0 {
				fmt.Fprintln(app.messageOut(), "Generating Go code only. Skipping artifact build.")
			}
			if len(problems) > 0 || app.Verbose > 0 {
				fmt.Fprintf(app.messageOut(), "Generated %d files in %s (%s).\n", len(res.Files), displayPath(res.Dir, opts.Cwd), problems.Summary())
			}
		}
	}
	if !ok {
		return &SilentError{Code: ExitUser}
	}
	return nil
}

// checkArtifactPath applies dvp's click.Path(dir_okay=False) check to -a:
// the file need not exist, but it may not be a directory (usage errors);
// and its directory must exist, or the write would fail (exit 1, as dvp's
// failed write).
func checkArtifactPath(path string) error {
	if path == "" {
		return Usagef("Invalid value for '-a' / '--upload-artifact': File '' is a directory.")
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return Usagef("Invalid value for '-a' / '--upload-artifact': File '%s' is a directory.", path)
	} else if err == nil && !st.Mode().IsRegular() {
		// The artifact replaces the file at path: a FIFO's open would
		// wait for a reader, and a device (-a /dev/null, as root) would
		// be replaced by the artifact.
		return Usagef("Invalid value for '-a' / '--upload-artifact': File '%s' is %s, not a regular file; give -a the path of the artifact to write (artifact.json).", path, fsutil.Kind(st.Mode()))
	} else if err == nil {
		// An existing artifact must be writable (click's writable=True).
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return Usagef("Invalid value for '-a' / '--upload-artifact': File '%s' is not writable.", path)
		}
		f.Close()
	}
	dir := filepath.Dir(path)
	// click does not check the directory: dvp builds, then fails to write
	// the artifact (exit 1), naming the path click resolved (absolute). We
	// say so before building, with the error the write would get.
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if st, err := os.Stat(dir); err != nil {
		return Userf("Failed to write upload_artifact file to %s. Error code: 2. Error message: No such file or directory (the directory '%s' does not exist). Create it, or give -a a path in an existing directory.", abs, dir)
	} else if !st.IsDir() {
		return Userf("Failed to write upload_artifact file to %s. Error code: 20. Error message: Not a directory ('%s' is %s). Give -a a path in an existing directory.", abs, dir, fsutil.Kind(st.Mode()))
	}
	return nil
}

// BuildReport is the JSON form of dvp build's result.
type BuildReport struct {
	Status       string                   `json:"status"` // "success" or "failed"
	Artifact     string                   `json:"artifact,omitempty"`
	SHA256       string                   `json:"sha256,omitempty"`
	BinarySHA256 string                   `json:"binarySha256,omitempty"`
	GoVersion    string                   `json:"goVersion,omitempty"`
	Problems     []diag.Problem           `json:"problems"`
	Manifest     *artifact.PluginManifest `json:"manifest,omitempty"`
}

func runBuild(ctx context.Context, app *App, opts BuildOptions) error {
	app.leave("the artifact %s was left as it was", displayPath(opts.ArtifactPath, opts.Cwd))
	prog := startProgress(app, "dvp build")
	res := build.Build(ctx, build.Options{
		ConfigPath:   opts.ConfigPath,
		ArtifactPath: opts.ArtifactPath,
		BaselinePath: opts.Baseline,
		DvpVersion:   app.Version,
		Log:          app.Log,
		Step:         prog.Step,
	})
	prog.Done()
	failed := res.Failed()
	if failed && ctx.Err() != nil {
		// Interrupted: the one line of Run says what was left, not a
		// failure report of a build that was stopped.
		return ctx.Err()
	}
	problems := relativize(res.Problems, opts.Cwd)
	problems.Sort()
	out := app.resultOut()
	if opts.Output == "json" {
		rep := BuildReport{Status: "success", Problems: problems, Manifest: res.Manifest,
			BinarySHA256: res.BinarySHA256, GoVersion: res.GoVersion}
		if failed {
			rep.Status = "failed"
		} else {
			rep.Artifact, rep.SHA256 = displayPath(res.ArtifactPath, opts.Cwd), res.SHA256
		}
		if rep.Problems == nil {
			rep.Problems = diag.List{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		app.printProblems(problems)
		if len(problems) > 0 {
			fmt.Fprintf(app.messageOut(), "\n%s%s.\n", problems.Summary(), inFiles(problems))
		}
		// dvp's last lines: a blank line, then the verdict; the artifact's
		// absolute path (and our sha256) at INFO, so from -v on
		// (docs/compatibility.md, "The build").
		if failed {
			fmt.Fprintln(out, "\nBUILD FAILED.")
		} else {
			if app.Verbose > 0 {
				fmt.Fprintf(app.messageOut(), "Successfully generated artifact file at %s.\nsha256 %s\n", resolvedPath(res.ArtifactPath, opts.Cwd), res.SHA256)
			}
			// A success is a message, as in dvp (hidden from -q on): the
			// artifact is the result.
			fmt.Fprintln(app.messageOut(), "\nBUILD SUCCESSFUL.")
		}
	}
	if failed {
		return &SilentError{Code: ExitUser}
	}
	return nil
}

// resolvedPath is path as dvp's options give it (click's resolve_path):
// absolute, with the symbolic links of its directory resolved.
func resolvedPath(path, cwd string) string {
	if !filepath.IsAbs(path) {
		path = filepath.Join(cwd, path)
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		return filepath.Join(dir, filepath.Base(path))
	}
	return filepath.Clean(path)
}
