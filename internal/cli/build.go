package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/dvpkit/dvp/internal/build"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/spf13/cobra"
)

// BuildOptions are the inputs of dvp build.
type BuildOptions struct {
	ConfigPath   string
	ArtifactPath string
	GenerateOnly bool
	Check        bool
	Output       string
	Cwd          string
}

func newBuildCmd(app *App) *cobra.Command {
	opts := BuildOptions{}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Validate the project, generate Go types from schema.json, and build the artifact",
		Long: `Build validates plugin_config.yml and schema.json, generates the Go types of
schema.json into <srcDir>/generated (package generated), and writes the upload
artifact.

With -g (--generate-only) it validates and generates only: problems with the
project that do not stop generation are reported as warnings. With --check it
writes nothing and exits 1 when the generated code on disk is stale (for CI).`,
		Example: `  dvp build -g
  dvp build -g --check`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := mutuallyExclusive(cmd, app.Args, []string{"upload-artifact", "generate-only"}); err != nil {
				return err
			}
			if err := checkOutputFlag(opts.Output); err != nil {
				return err
			}
			if opts.Check && !opts.GenerateOnly {
				return Usagef("--check goes with -g/--generate-only.")
			}
			if err := checkExistingFile("-c", "--plugin-config", opts.ConfigPath); err != nil {
				return err
			}
			cwd, err := app.IO.Getwd()
			if err != nil {
				return err
			}
			opts.Cwd = cwd
			if !opts.GenerateOnly {
				return Userf("Building the artifact is not available in this version of dvp yet; run 'dvp build -g' to validate and generate code.")
			}
			return runGenerate(app.IO.Out, opts)
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&opts.ConfigPath, "plugin-config", "c", "plugin_config.yml", "the plugin config file")
	f.StringVarP(&opts.ArtifactPath, "upload-artifact", "a", "artifact.json", "where to write the artifact (not with -g)")
	f.BoolVarP(&opts.GenerateOnly, "generate-only", "g", false, "only validate and generate code (not with -a)")
	f.BoolVar(&opts.Check, "check", false, "with -g: write nothing, exit 1 when the generated code is stale")
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

// GenerateReport is the JSON form of dvp build -g's result.
type GenerateReport struct {
	OK       bool           `json:"ok"`
	Dir      string         `json:"dir,omitempty"`
	Files    []string       `json:"files"`
	Stale    *bool          `json:"stale,omitempty"`
	Problems []diag.Problem `json:"problems"`
}

func runGenerate(out io.Writer, opts BuildOptions) error {
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
		for _, p := range problems {
			fmt.Fprintln(out, p.String())
		}
		switch {
		case res.Failed():
			fmt.Fprintf(out, "\nGENERATE FAILED (%s).\n", problems.Summary())
		case opts.Check && res.Stale:
			fmt.Fprintf(out, "The generated code in %s is stale: run 'dvp build -g'.\n", displayPath(res.Dir, opts.Cwd))
		case opts.Check:
			fmt.Fprintf(out, "The generated code in %s is up to date.\n", displayPath(res.Dir, opts.Cwd))
		default:
			fmt.Fprintf(out, "Generated %d files in %s (%s).\n", len(res.Files), displayPath(res.Dir, opts.Cwd), problems.Summary())
		}
	}
	if !ok {
		return &SilentError{Code: ExitUser}
	}
	return nil
}
