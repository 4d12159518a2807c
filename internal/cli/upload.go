package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/dvpkit/dvp/internal/termsafe"
	"github.com/dvpkit/dvp/internal/upload"
	"github.com/spf13/cobra"
)

// UploadOptions are the inputs of dvp upload.
type UploadOptions struct {
	ConnectionOptions
	ArtifactPath string
	Wait         bool
	Timeout      time.Duration
	Output       string
}

func newUploadCmd(app *App) *cobra.Command {
	opts := UploadOptions{}
	cmd := &cobra.Command{
		Use:   "upload",
		Short: "Upload the plugin artifact to an engine",
		Long: `Upload logs in to an engine and uploads the artifact built by 'dvp build',
sending the requests a Delphix Engine expects, so a Delphix Engine and the
local engine ('dvp engine serve') both accept it. The file is streamed as it
is: memory does not grow with its size.

The engine is -e, else DVP_ENGINE, else engine in ~/.dvp/config; the same for
the user (-u, DVP_USER, user). A bare host or host:port means HTTPS; give
http://HOST:PORT explicitly for a plain-HTTP engine such as the local one.
The password comes from --password-stdin, --password, DVP_PASSWORD or the
config file, else dvp asks for it when standard input is a terminal.

With --wait, dvp follows the upload's job until it ends, printing its events,
and exits 1 if it fails or does not end within --timeout.`,
		Example: `  dvp upload -e http://127.0.0.1:8780 -u admin --wait
  pass show engine | dvp upload -e engine.example.com -u admin --password-stdin -a build/artifact.json`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := checkOutputFlag(&opts.Output); err != nil {
				return err
			}
			if opts.Timeout <= 0 {
				return Usagef("Invalid value for '--timeout': %s is not a positive duration.", opts.Timeout)
			}
			findProjectArtifact(app, cmd, &opts.ArtifactPath)
			checkArtifact := func() error {
				err := checkExistingFile("-a", "--upload-artifact", opts.ArtifactPath)
				if _, serr := os.Stat(opts.ArtifactPath); err != nil && os.IsNotExist(serr) && !cmd.Flags().Changed("upload-artifact") {
					// click's sentence, then how to make the file.
					return Usagef("%s Build it with 'dvp build' (it writes artifact.json next to plugin_config.yml), or give -a.", err.Error())
				}
				return err
			}
			// As click: an option given is checked before those left to
			// their defaults (the engine and the user).
			if cmd.Flags().Changed("upload-artifact") {
				if err := checkArtifact(); err != nil {
					return err
				}
			}
			conn, err := resolveConnection(cmd.Context(), app, cmd, &opts.ConnectionOptions, checkArtifact)
			if err != nil {
				return err
			}
			return runUpload(cmd.Context(), app, opts, conn)
		}),
	}
	addConnectionFlags(cmd, &opts.ConnectionOptions)
	f := cmd.Flags()
	f.StringVarP(&opts.ArtifactPath, "upload-artifact", "a", "artifact.json", "the artifact to upload")
	f.BoolVar(&opts.Wait, "wait", false, "wait until the engine has processed the upload (follows its job)")
	f.DurationVar(&opts.Timeout, "timeout", time.Hour, "with --wait: how long to wait at most")
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

// UploadReport is the JSON form of dvp upload's result.
type UploadReport struct {
	Engine   string `json:"engine"`
	Artifact string `json:"artifact"`
	Action   string `json:"action"`
	Job      string `json:"job,omitempty"`
	Waited   bool   `json:"waited"`
}

func runUpload(ctx context.Context, app *App, opts UploadOptions, conn *connection) error {
	client, err := newClient(app, &opts.ConnectionOptions, conn)
	if err != nil {
		return err
	}
	up := &upload.Client{Engine: client, Progress: progress(app)}
	app.leave("the engine drops an upload it did not receive whole")
	res, err := up.Upload(ctx, upload.UploadOptions{
		User: conn.user, Password: conn.password, ArtifactPath: opts.ArtifactPath,
		Wait: opts.Wait, WaitOptions: upload.WaitOptions{Timeout: opts.Timeout},
		Uploaded: func(r *upload.UploadResult) {
			if r.Job != "" {
				app.leave("the engine received the upload and its job %s goes on running there; 'dvp job wait %s' follows it", termsafe.String(r.Job), termsafe.String(r.Job))
			} else {
				app.leave("the engine received the upload")
			}
		},
	})
	if err != nil {
		return mapEngineError(err)
	}
	if opts.Output == "json" {
		abs, _ := filepath.Abs(opts.ArtifactPath)
		enc := json.NewEncoder(app.resultOut())
		enc.SetIndent("", "  ")
		return enc.Encode(UploadReport{Engine: client.BaseURL().String(), Artifact: abs, Action: res.Action, Job: res.Job, Waited: opts.Wait})
	}
	return nil
}
