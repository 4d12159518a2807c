package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/logging"
	"github.com/spf13/cobra"
)

// testApp is an App with a home of its own and an empty environment (no
// IO.Getenv): no engine settings but the test's.
func testApp(t *testing.T, stdin string, terminal bool) (*App, *bytes.Buffer) {
	t.Helper()
	errb := &bytes.Buffer{}
	app := &App{
		IO:       IO{In: strings.NewReader(stdin), Out: &bytes.Buffer{}, Err: errb, Home: t.TempDir(), StdinIsTerminal: terminal},
		Redactor: logging.NewRedactor(),
		Version:  "test",
	}
	app.Log = logging.New(logging.Options{Console: errb, ConsoleLevel: logging.ConsoleLevel(0, 0), Redactor: app.Redactor})
	return app, errb
}

func connCmd(t *testing.T, app *App, args ...string) (*cobra.Command, *ConnectionOptions) {
	t.Helper()
	o := &ConnectionOptions{}
	cmd := &cobra.Command{Use: "upload"}
	addConnectionFlags(cmd, o)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	app.Args = args
	return cmd, o
}

func noCheck() error { return nil }

// fakePrompter answers the password question.
type fakePrompter func() (string, error)

func (f fakePrompter) Password(context.Context) (string, error) { return f() }

func TestPasswordSources(t *testing.T) {
	writeConfig := func(app *App, body string) {
		os.MkdirAll(filepath.Join(app.IO.Home, ".dvp"), 0o755)
		os.WriteFile(filepath.Join(app.IO.Home, ".dvp", "config"), []byte(body), 0o600)
	}
	prompted := false
	prompter := fakePrompter(func() (string, error) { prompted = true; return "from-prompt", nil })

	cases := []struct {
		name     string
		args     []string
		env      string
		config   string
		stdin    string
		terminal bool
		want     string
		prompt   bool
	}{
		{name: "flag beats env and file", args: []string{"--password", "from-flag"}, env: "from-env", config: "password = from-file\n", want: "from-flag"},
		{name: "env beats file", env: "from-env", config: "password = from-file\n", want: "from-env"},
		{name: "file", config: "password = from-file\n", terminal: true, want: "from-file"},
		{name: "empty file password turns the prompt off", config: "password =\n", terminal: true, want: ""},
		{name: "stdin", args: []string{"--password-stdin"}, env: "from-env", stdin: "from-stdin\r\nrest\n", want: "from-stdin"},
		{name: "prompt on a terminal", terminal: true, want: "from-prompt", prompt: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prompted = false
			app, _ := testApp(t, c.stdin, c.terminal)
			app.Prompter = prompter
			app.IO.Getenv = func(k string) string {
				if k == "DVP_PASSWORD" {
					return c.env
				}
				return ""
			}
			writeConfig(app, "[default]\nengine = http://127.0.0.1:1\nuser = admin\n"+c.config)
			cmd, o := connCmd(t, app, c.args...)
			conn, err := resolveConnection(context.Background(), app, cmd, o, noCheck)
			if err != nil {
				t.Fatal(err)
			}
			if conn.password != c.want || prompted != c.prompt || conn.engine != "http://127.0.0.1:1" || conn.user != "admin" {
				t.Errorf("got %+v (prompted %v)", conn, prompted)
			}
			if c.want != "" && app.Redactor.Redact("x "+c.want+" y") != "x "+logging.Mask+" y" {
				t.Error("the password is not registered with the redactor")
			}
		})
	}
}

func TestNoPasswordWithoutTerminal(t *testing.T) {
	app, _ := testApp(t, "", false)
	cmd, o := connCmd(t, app, "-e", "http://127.0.0.1:1", "-u", "admin")
	_, err := resolveConnection(context.Background(), app, cmd, o, noCheck)
	var ue *UserError
	if !errors.As(err, &ue) || !strings.Contains(ue.Msg, "--password-stdin") || !strings.Contains(ue.Msg, "DVP_PASSWORD") {
		t.Errorf("got %v", err)
	}
	// A failing check comes before the password question.
	_, err = resolveConnection(context.Background(), app, cmd, o, func() error { return Usagef("bad flag") })
	var us *UsageError
	if !errors.As(err, &us) {
		t.Errorf("the check did not come first: %v", err)
	}
}

func TestClearTextWarning(t *testing.T) {
	for engine, warn := range map[string]bool{
		"http://192.0.2.10:8780": true,
		"http://engine.example":  true,
		"http://127.0.0.1:8780":  false,
		"http://localhost:8780":  false,
		"http://[::1]:8780":      false,
		"engine.example":         false, // https
	} {
		app, errb := testApp(t, "", false)
		_, err := newClient(app, &ConnectionOptions{}, &connection{engine: engine, user: "admin", password: "pw"})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(errb.String(), "in clear text"); got != warn {
			t.Errorf("%s: warning %v, want %v: %q", engine, got, warn, errb.String())
		}
	}
}
