package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/dvpkit/dvp/internal/settings"
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
	f.DurationVar(&o.ReadTimeout, "read-timeout", engineclient.DefaultReadTimeout, "give up when the engine makes no progress (no answer, no byte sent or received) for this long, or when an answer (not a download) has not arrived whole after this long")
}

// showConfiguredDefaults makes the help of a command with connection flags
// show the engine and the user that the environment or ~/.dvp/config give
// as (default "..."), as dvp's help shows the config file's values (never
// the password).
func showConfiguredDefaults(app *App, root *cobra.Command) {
	base := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if f := c.Flags(); f.Lookup(settings.KeyEngine) != nil {
			if s, err := settings.Load(settings.Options{Home: app.IO.Home, Flags: f, Getenv: app.IO.Getenv}); err == nil {
				for _, key := range []string{settings.KeyEngine, settings.KeyUser} {
					if v, src := s.Get(key); v != "" && (src == settings.FromFile || src == settings.FromEnv) {
						f.Lookup(key).DefValue = shownValue(v)
					}
				}
			}
		}
		base(c, args)
	})
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
	if err := exclusiveFlags(cmd, app.Args, []string{settings.KeyPassword, "password-stdin"}); err != nil {
		return nil, err
	}
	if o.ReadTimeout <= 0 {
		return nil, Usagef("Invalid value for '--read-timeout': %s is not a positive duration (such as 30s or 10m).", o.ReadTimeout)
	}
	s, err := settings.Load(settings.Options{Home: app.IO.Home, Flags: cmd.Flags(), Getenv: app.IO.Getenv})
	if err != nil {
		return nil, &UserError{Msg: err.Error()}
	}
	for _, w := range s.Warnings() {
		app.Log.Warn("Warning: " + w)
	}
	c := &connection{}
	if c.engine, _ = s.Get(settings.KeyEngine); c.engine == "" {
		return nil, Usagef("Invalid value for '-e' / '--engine': %s It can also be given with the environment variable \"DVP_ENGINE\"%s.", dvpRequired, orInFile(s, settings.KeyEngine))
	}
	logEngineSetting(app, s)
	// An address dvp cannot use is a bad setting, as a missing one is:
	// refused before any prompt or request.
	if _, err := engineclient.ParseEngine(c.engine); err != nil {
		return nil, engineAddressError(s, err)
	}
	if c.user, _ = s.Get(settings.KeyUser); c.user == "" {
		return nil, Usagef("Invalid value for '-u' / '--user': %s It can also be given with the environment variable \"DVP_USER\"%s.", dvpRequired, orInFile(s, settings.KeyUser))
	}
	if err := check(); err != nil {
		return nil, err
	}
	var passwordFrom string
	switch pw, src := s.Get(settings.KeyPassword); {
	case o.PasswordStdin:
		passwordFrom = "standard input (--password-stdin)"
		c.password, err = readPasswordLine(app.IO.In)
		if err != nil {
			return nil, err
		}
	case src == settings.FromFlag || src == settings.FromEnv || src == settings.FromFile:
		// A password key in the config file, even empty, turns the prompt
		// off, as in dvp (docs/upload.md, "Password").
		passwordFrom = sourceName(src, settings.KeyPassword, s.ConfigFile())
		c.password = pw
	case app.IO.StdinIsTerminal && isTTY(app.IO.In):
		passwordFrom = "the prompt"
		c.password, err = app.prompter().Password(ctx)
		if err != nil {
			return nil, err
		}
	default:
		return nil, Userf("No password for user %s: standard input is not a terminal, so dvp cannot ask for it.\n"+
			"Give it with --password-stdin (e.g. 'pass show engine | %s --password-stdin ...'), the DVP_PASSWORD environment variable, or password in the [default] section of ~/.dvp/config.",
			c.user, cmd.CommandPath())
	}
	app.Redactor.Add(c.password)
	logSettings(app, s, o, cmd, passwordFrom)
	return c, nil
}

// orInFile names the config file a setting may also come from, with its
// warnings in mind (a [defualt] section reads nothing).
// dvpRequired is dvp's sentence for a required option not given: dvp in Go
// says it whole, then where else the value can come from
// (docs/compatibility.md, The command line).
const dvpRequired = "Option is required and must be specified via the command line."

func orInFile(s *settings.Settings, key string) string {
	f := s.ConfigFile()
	if f == "" {
		return ""
	}
	if len(s.Warnings()) > 0 {
		return fmt.Sprintf(", or as %s in the [default] section of %s (see the warnings above about that file)", key, f)
	}
	return fmt.Sprintf(", or as %s in the [default] section of %s", key, f)
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
	// At most maxPasswordLine bytes: standard input may be endless
	// (/dev/zero, yes) and hold no line break.
	line, err := bufio.NewReader(io.LimitReader(r, maxPasswordLine+1)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", Userf("Cannot read the password from standard input (%v).", err)
	}
	if len(line) > maxPasswordLine {
		return "", Userf("--password-stdin: the first line of standard input is longer than %d bytes: it is no password.", maxPasswordLine)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", Userf("--password-stdin: standard input holds no password (an empty first line).")
	}
	return line, nil
}

// newClient builds the engine client of a command with the App's factory,
// warning when a password would cross the network in clear text.
func newClient(app *App, o *ConnectionOptions, c *connection) (*engineclient.Client, error) {
	client, err := app.EngineClient(engineclient.Options{
		Engine: c.engine, CAFile: o.CAFile, InsecureSkipVerify: o.InsecureSkipVerify, ReadTimeout: o.ReadTimeout,
		Log: app.Log, UserAgent: "dvp/" + app.Version,
	})
	if err != nil {
		return nil, mapEngineError(err)
	}
	if u := client.BaseURL(); u.Scheme == "http" && !engineclient.IsLoopback(u) {
		app.Log.Warn(fmt.Sprintf("Warning: the password of %s goes to %s in clear text (http://). Use https://%s unless this network is private.", c.user, u.Host, u.Host))
	}
	if o.InsecureSkipVerify {
		app.Log.Warn("Warning: the engine's TLS certificate is not verified (--insecure-skip-tls-verify).")
	}
	return client, nil
}

// progress is where transfers draw their progress: stderr when it is a
// terminal and -q is not given, else nowhere.
func progress(app *App) io.Writer {
	if app.IO.Env("TERM") == "dumb" {
		return nil // a terminal that cannot erase a line (Emacs shells, some CI logs)
	}
	if f, ok := app.IO.Err.(*os.File); ok && app.IO.StderrIsTerminal && term.IsTerminal(int(f.Fd())) && app.Quiet == 0 {
		return app.IO.Err
	}
	return nil
}

// mapEngineError turns the engine client's errors into user errors (exit
// 1): their messages are dvp's.
func mapEngineError(err error) error {
	var ue *engineclient.Error
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

// Prompter asks the user for what a command needs on the terminal. The App
// gives commands theirs; tests inject a fake.
type Prompter interface {
	// Password asks for a password without echo.
	Password(ctx context.Context) (string, error)
}

// terminalPrompter prompts on the terminal of the IO: the question on Err,
// the answer from In without echo. An interrupt (Ctrl-C) restores the
// terminal and aborts.
type terminalPrompter struct{ io IO }

func (p terminalPrompter) Password(ctx context.Context) (string, error) {
	in, ok := p.io.In.(*os.File)
	if !ok {
		return "", Userf("Cannot ask for the password, as standard input is not a terminal.")
	}
	fd := int(in.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return "", Userf("Cannot ask for the password (%v).", err)
	}
	fmt.Fprint(p.io.Err, "Password: ")
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
		fmt.Fprintln(p.io.Err)
		if r.err != nil {
			return "", Userf("Cannot read the password (%v).", r.err)
		}
		return string(r.b), nil
	case <-ctx.Done():
		term.Restore(fd, state)
		fmt.Fprintln(p.io.Err)
		return "", Userf("Aborted!")
	}
}

// engineAddressError is the usage error of an engine address that cannot
// be used (exit 2, as a missing one), saying why, how to fix it and where
// it came from: the config file's line (FILE:LINE: first, as other problems
// of files are, without the usage lines: the command line is not at
// fault), the environment variable or the flag.
func engineAddressError(s *settings.Settings, err error) error {
	_, src := s.Get(settings.KeyEngine)
	if src == settings.FromFile {
		at := s.ConfigFile()
		if line := s.KeyLine(settings.KeyEngine); line > 0 {
			at = fmt.Sprintf("%s:%d", at, line)
		}
		return &UsageError{Bare: true, Msg: fmt.Sprintf("%s: %v (engine in [default]). Correct it there, or give -e/--engine or DVP_ENGINE.", at, err)}
	}
	return Usagef("Invalid value for '-e' / '--engine': %v (from %s).", err, sourceName(src, settings.KeyEngine, s.ConfigFile()))
}

// maxPasswordLine bounds what --password-stdin reads.
const maxPasswordLine = 4096
