package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/project"
	"github.com/spf13/cobra"
)

// ValidateOptions are the inputs of dvp validate.
type ValidateOptions struct {
	ConfigPath string
	Output     string // text or json
	Cwd        string // to show paths relative to it
}

func newValidateCmd(app *App) *cobra.Command {
	opts := ValidateOptions{}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check plugin_config.yml and schema.json and report every problem",
		Long: `Validate checks plugin_config.yml and the schema.json it names against the
rules of the Delphix plugin format, and prints every problem at once as
FILE:LINE:COL: message, with the JSON pointer of schema problems and a hint on
how to fix each, then a one-line summary.

It exits 0 when the project is valid (warnings allowed) and 1 otherwise. It
checks the two files only; the Go sources are checked by 'dvp build'.`,
		Example: `  dvp validate
  dvp validate -c path/to/plugin_config.yml --output json`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := checkOutputFlag(&opts.Output); err != nil {
				return err
			}
			cwd, err := app.IO.Getwd()
			if err != nil {
				return err
			}
			opts.Cwd = cwd
			given := cmd.Flags().Changed("plugin-config")
			discoverProjectFile(app, given, cwd, configFileName, &opts.ConfigPath)
			if err := checkConfigPath(given, cwd, opts.ConfigPath); err != nil {
				return err
			}
			return runValidate(app, opts)
		}),
	}
	cmd.Flags().StringVarP(&opts.ConfigPath, "plugin-config", "c", "plugin_config.yml", "the plugin config file to validate")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

// ValidateReport is the JSON form of dvp validate's result.
type ValidateReport struct {
	Valid    bool           `json:"valid"`
	Plugin   *PluginSummary `json:"plugin"`
	Errors   int            `json:"errors"`
	Warnings int            `json:"warnings"`
	Problems []diag.Problem `json:"problems"`
}

// PluginSummary names the plugin a report is about.
type PluginSummary struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	BuildNumber string `json:"buildNumber"` // normalized, as in the artifact
}

func runValidate(app *App, opts ValidateOptions) error {
	out := app.resultOut()
	p := project.Load(opts.ConfigPath)
	problems := relativize(p.Problems, opts.Cwd)
	problems.Sort()
	report := ValidateReport{
		Valid:    p.Valid(),
		Errors:   problems.Count(diag.Error),
		Warnings: problems.Count(diag.Warning),
		Problems: problems,
	}
	if report.Problems == nil {
		report.Problems = diag.List{}
	}
	if c := p.Config; c != nil {
		report.Plugin = &PluginSummary{ID: c.ID, Name: c.Name, Type: c.PluginType, BuildNumber: c.NormalizedBuildNumber()}
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		app.printProblems(problems)
		// The verdict names the project's config, or when it is invalid
		// the files that have errors.
		subject, verdict := displayPath(opts.ConfigPath, opts.Cwd), "valid"
		if !report.Valid {
			verdict = "invalid"
			if files := errorFiles(problems); len(files) > 0 {
				subject = joinFiles(files)
			}
		}
		fmt.Fprintf(out, "%s: %s (%s).\n", subject, verdict, problems.Summary())
	}
	if !report.Valid {
		return &SilentError{Code: ExitUser}
	}
	return nil
}

// relativize shows paths under the working directory relative to it.
func relativize(l diag.List, cwd string) diag.List {
	out := make(diag.List, len(l))
	for i, p := range l {
		p.File = displayPath(p.File, cwd)
		out[i] = p
	}
	return out
}

func displayPath(path, cwd string) string {
	if cwd == "" || !filepath.IsAbs(path) {
		return path
	}
	rel, err := filepath.Rel(cwd, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return rel
}
