package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/settings"
	"github.com/dvpkit/dvp/internal/upload"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// ConnectionOptions are the engine connection flags of upload and
// download-logs.
type ConnectionOptions struct {
	Engine             string
	User               string
	Password           string
	PasswordStdin      bool
	CAFile             string
	InsecureSkipVerify bool
	ReadTimeout        time.Duration
}

func addConnectionFlags(cmd *cobra.Command, o *ConnectionOptions) {
	f := cmd.Flags()
	f.StringVarP(&o.Engine, settings.KeyEngine, "e", "", "the engine: host or host:port (HTTPS), or a URL such as http://127.0.0.1:8780 (env DVP_ENGINE, or engine in ~/.dvp/config)")
	f.StringVarP(&o.User, settings.KeyUser, "u", "", "the engine user (env DVP_USER, or user in ~/.dvp/config)")
	f.StringVar(&o.Password, settings.KeyPassword, "", "the password (visible to other users of this machine: prefer --password-stdin, DVP_PASSWORD or the prompt)")
	f.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&o.CAFile, "ca-file", "", "a PEM file of certificate authorities to trust for the engine's HTTPS certificate")
	f.BoolVar(&o.InsecureSkipVerify, "insecure-skip-tls-verify", false, "do not verify the engine's certificate (test engines only)")
	f.DurationVar(&o.ReadTimeout, "read-timeout", upload.DefaultReadTimeout, "give up when the engine makes no progress (no answer, no byte sent or received) for this long")
}

// connection is a resolved engine connection.
type connection struct {
	engine   string
	user     string
	password string
}

// resolveConnection applies flag > environment > ~/.dvp/config to engine,
// user and password, prompting for the password on a terminal when none is
// given, and registers the password with the redactor. check runs between
// engine and user and the password, so that a bad flag is reported before
// any prompt (as click does).
func resolveConnection(ctx context.Context, app *App, cmd *cobra.Command, o *ConnectionOptions, check func() error) (*connection, error) {
	if err := mutuallyExclusive(cmd, app.Args, []string{settings.KeyPassword, "password-stdin"}); err != nil {
		return nil, err
	}
	if o.ReadTimeout <= 0 {
		return nil, Usagef("Invalid value for '--read-timeout': %s is not a positive duration (such as 30s or 10m).", o.ReadTimeout)
	}
	s, err := settings.Load(settings.Options{Home: app.IO.Home, Flags: cmd.Flags()})
	if err != nil {
		return nil, &UserError{Msg: err.Error()}
	}
	c := &connection{}
	var src settings.Source
	if c.engine, src = s.Get(settings.KeyEngine); c.engine == "" {
		return nil, Usagef("Invalid value for '-e' / '--engine': Option is required and must be specified via the command line or using the environment variable \"DVP_ENGINE\".")
	}
	app.Log.Debug("engine", "value", c.engine, "from", string(src))
	if c.user, src = s.Get(settings.KeyUser); c.user == "" {
		return nil, Usagef("Invalid value for '-u' / '--user': Option is required and must be specified via the command line or using the environment variable \"DVP_USER\".")
	}
	app.Log.Debug("user", "value", c.user, "from", string(src))
	if err := check(); err != nil {
		return nil, err
	}
	switch pw, src := s.Get(settings.KeyPassword); {
	case o.PasswordStdin:
		c.password, err = readPasswordLine(app.IO.In)
		if err != nil {
			return nil, err
		}
	case src == settings.FromFlag || src == settings.FromEnv || src == settings.FromFile:
		// A password key in the config file, even empty, turns the prompt off (reference 1.7).
		c.password = pw
	case app.IO.StdinIsTerminal && isTTY(app.IO.In):
		c.password, err = promptPassword(ctx, app)
		if err != nil {
			return nil, err
		}
	default:
		return nil, Userf("No password for user %s: standard input is not a terminal, so dvp cannot ask for it.\n"+
			"Give it with --password-stdin (e.g. 'pass show engine | dvp %s --password-stdin ...'), the DVP_PASSWORD environment variable, or password in the [default] section of ~/.dvp/config.",
			c.user, cmd.Name())
	}
	app.Redactor.Add(c.password)
	return c, nil
}

// isTTY tells a terminal from other character devices such as /dev/null
// (IO.StdinIsTerminal only looks at the file mode). Readers that are not
// files are test doubles and count as terminals.
func isTTY(r io.Reader) bool {
	f, ok := r.(*os.File)
	return !ok || term.IsTerminal(int(f.Fd()))
}

// readPasswordLine reads the password from the first line of r.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", Userf("Cannot read the password from standard input (%v).", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", Userf("--password-stdin: standard input holds no password (an empty first line).")
	}
	return line, nil
}

// promptPassword asks for the password on the terminal without echo. An
// interrupt (Ctrl-C) restores the terminal and aborts.
var promptPassword = func(ctx context.Context, app *App) (string, error) {
	in, ok := app.IO.In.(*os.File)
	if !ok {
		return "", Userf("Cannot ask for the password, as standard input is not a terminal.")
	}
	fd := int(in.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return "", Userf("Cannot ask for the password (%v).", err)
	}
	fmt.Fprint(app.IO.Err, "Password: ")
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(app.IO.Err)
		if r.err != nil {
			return "", Userf("Cannot read the password (%v).", r.err)
		}
		return string(r.b), nil
	case <-ctx.Done():
		term.Restore(fd, state)
		fmt.Fprintln(app.IO.Err)
		return "", Userf("Aborted!")
	}
}

// newClient builds the engine client of a command, warning when a
// password would cross the network in clear text.
func newClient(app *App, o *ConnectionOptions, c *connection) (*upload.Client, error) {
	var progress io.Writer
	if f, ok := app.IO.Err.(*os.File); ok && app.IO.StderrIsTerminal && term.IsTerminal(int(f.Fd())) && app.Quiet == 0 {
		progress = app.IO.Err
	}
	client, err := upload.New(upload.Options{
		Engine: c.engine, CAFile: o.CAFile, InsecureSkipVerify: o.InsecureSkipVerify, ReadTimeout: o.ReadTimeout,
		Log: app.Log, Progress: progress, UserAgent: "dvp/" + app.Version,
	})
	if err != nil {
		return nil, mapUploadError(err)
	}
	if u := client.BaseURL(); u.Scheme == "http" && !upload.IsLoopback(u) {
		app.Log.Warn(fmt.Sprintf("Warning: the password of %s goes to %s in clear text (http://). Use https://%s unless this network is private.", c.user, u.Host, u.Host))
	}
	if o.InsecureSkipVerify {
		app.Log.Warn("Warning: the engine's TLS certificate is not verified (--insecure-skip-tls-verify).")
	}
	return client, nil
}

// mapUploadError turns the client's errors into user errors (exit 1).
func mapUploadError(err error) error {
	var ue *upload.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ue):
		return &UserError{Msg: ue.Msg}
	case errors.Is(err, context.Canceled):
		return Userf("Interrupted.")
	}
	return err
}

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
sending the requests dvp's Python client sends, so a Delphix Engine and the
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
			if err := checkOutputFlag(opts.Output); err != nil {
				return err
			}
			if opts.Timeout <= 0 {
				return Usagef("Invalid value for '--timeout': %s is not a positive duration.", opts.Timeout)
			}
			conn, err := resolveConnection(cmd.Context(), app, cmd, &opts.ConnectionOptions, func() error {
				return checkExistingFile("-a", "--upload-artifact", opts.ArtifactPath)
			})
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
	res, err := client.Upload(ctx, upload.UploadOptions{
		User: conn.user, Password: conn.password, ArtifactPath: opts.ArtifactPath,
		Wait: opts.Wait, WaitOptions: upload.WaitOptions{Timeout: opts.Timeout},
	})
	if err != nil {
		return mapUploadError(err)
	}
	if opts.Output == "json" {
		abs, _ := filepath.Abs(opts.ArtifactPath)
		enc := json.NewEncoder(app.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(UploadReport{Engine: client.BaseURL().String(), Artifact: abs, Action: res.Action, Job: res.Job, Waited: opts.Wait})
	}
	return nil
}
