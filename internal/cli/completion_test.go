package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/engineclient"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runCompletion runs dvp __complete ARGS... with an empty word to complete,
// against the engine at url
// (configured with -e, -u and --password after the command's name: args
// starts with a group and a command) and returns the exit code, stdout and
// stderr.
func runCompletion(t *testing.T, url string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	app, errb := testApp(t, "", false)
	app.IO.Getenv = func(k string) string { return env[k] }
	app.IO.Getwd = func() (string, error) { return app.IO.Home, nil }
	line := append([]string{"__complete"}, args[:2]...)
	line = append(line, "-e", url, "-u", "admin", "--password", "pw")
	line = append(append(line, args[2:]...), "")
	code := app.Run(context.Background(), line)
	return code, app.IO.Out.(*bytes.Buffer).String(), errb.String()
}

// Names from the engine are offered only when a shell can take them as
// they are: a name with a line break would be two completions, a tab the
// start of a description, an escape sequence a command to the terminal.
func TestCompletionOffersOnlyPlainNames(t *testing.T) {
	srv := fakeEngine(t, map[string]string{
		"POST delphix/session": fakeSession,
		"POST delphix/login":   fakeLogin,
		"GET delphix/environment": `{"type": "ListResult", "status": "OK", "result": [
			{"reference": "E-1", "name": "staging"},
			{"reference": "E-2", "name": "two\nlines"},
			{"reference": "E-3", "name": "tab\tdescription"},
			{"reference": "E-4", "name": "\u001b[31mred"},
			{"reference": "E-5", "name": ""},
			{"reference": "E-6", "name": "` + strings.Repeat("x", maxCompletedName+1) + `"},
			{"reference": "E-7", "name": "prod db"}]}`,
		"GET delphix/database": `{"type": "ListResult", "status": "OK", "result": [
			{"reference": "APPDATA_CONTAINER-1", "name": "ds1", "containerType": "DSOURCE"},
			{"reference": "APPDATA_CONTAINER-2", "name": "vdb1", "containerType": "VDB"}]}`,
		"GET delphix/job": `{"type": "ListResult", "status": "OK", "result": [
			{"reference": "JOB-1", "jobState": "RUNNING", "title": "Sync\t\u001b[2Jds1"},
			{"reference": "JOB-\n2", "jobState": "RUNNING", "title": "x"}]}`,
	})
	code, out, _ := runCompletion(t, srv.URL, nil, "environment", "delete")
	if want := "staging\nprod db\n:4\n"; code != 0 || out != want {
		t.Errorf("environment delete: exit %d, stdout %q, want %q", code, out, want)
	}
	// What a job works on: dSources, VDBs and environments.
	code, out, _ = runCompletion(t, srv.URL, nil, "job", "list", "--object")
	if want := "ds1\nvdb1\nstaging\nprod db\n:4\n"; code != 0 || out != want {
		t.Errorf("job list --object: exit %d, stdout %q, want %q", code, out, want)
	}
	code, out, _ = runCompletion(t, srv.URL, nil, "job", "show")
	if !strings.HasPrefix(out, "JOB-1\t") || strings.Count(out, "\n") != 2 || strings.Contains(out, "\x1b") || strings.Count(out, "\t") != 1 {
		t.Errorf("job show: exit %d, stdout %q: want JOB-1 with one tab before its escaped title, and no JOB-\\n2", code, out)
	}
}

// An engine that accepts connections and never answers costs completion
// its time budget (DVP_COMPLETION_TIMEOUT), then nothing: no names, no
// message, exit 0. Without the bound this test waits forever.
func TestCompletionFromStalledEngine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(io.Discard, c) // read the request, answer nothing
				c.Close()
			}()
		}
	}()
	env := map[string]string{"DVP_COMPLETION_TIMEOUT": "200ms"}
	for _, args := range [][]string{{"environment", "delete"}, {"dsource", "link", "d", "--source-config"}, {"job", "wait"}} {
		code, out, errOut := runCompletion(t, "http://"+l.Addr().String(), env, args...)
		if code != 0 || out != ":4\n" || strings.Contains(errOut, "engine") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want :4 and nothing said about the engine", args, code, out, errOut)
		}
	}
	// Completion did ask that engine: through the App's client factory.
	var asked int
	app, _ := testApp(t, "", false)
	app.NewEngineClient = func(o engineclient.Options) (*engineclient.Client, error) { asked++; return engineclient.New(o) }
	app.IO.Getenv = func(k string) string { return env[k] }
	app.IO.Getwd = func() (string, error) { return app.IO.Home, nil }
	code := app.Run(context.Background(), []string{"__complete", "toolkit", "show", "-e", "http://" + l.Addr().String(), "-u", "a", "--password", "p", ""})
	if out := app.IO.Out.(*bytes.Buffer).String(); code != 0 || out != ":4\n" {
		t.Errorf("toolkit show: exit %d, stdout %q", code, out)
	}
	if asked != 1 {
		t.Errorf("completion made %d engine clients through the App, want 1", asked)
	}
}

// saysFile finds "file" (not "files") in a flag's usage.
var saysFile = regexp.MustCompile(`(?i)\bfile\b`)

// Every flag that takes a value completes something chosen for it: its
// values, files of its kind, engine objects, or nothing. Only the flags
// that name a file of any name leave the shell to complete file names, and
// a flag that says it takes a file is one of those (so a new one is
// classified, not left to offer files after --timeout or --user).
func TestEveryValueFlagCompletes(t *testing.T) {
	app, _ := testApp(t, "", false)
	app.IO.Getwd = func() (string, error) { return app.IO.Home, nil }
	root := NewRootCmd(app)
	seen := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if tp := f.Value.Type(); tp == "bool" || tp == "count" {
				return
			}
			_, has := c.GetFlagCompletionFunc(f.Name)
			seen[f.Name] = true
			switch {
			case flagAnyFiles[f.Name] && has:
				t.Errorf("%s --%s names any file, but has a completion of its own", c.CommandPath(), f.Name)
			case !flagAnyFiles[f.Name] && !has:
				t.Errorf("%s --%s completes nothing chosen: the shell offers file names", c.CommandPath(), f.Name)
			}
			if saysFile.MatchString(f.Usage) && !flagAnyFiles[f.Name] && flagFiles[f.Name] == nil && f.Name != "hook" {
				t.Errorf("%s --%s says it takes a file (%q): list it in flagAnyFiles or flagFiles", c.CommandPath(), f.Name, f.Usage)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for name := range flagAnyFiles {
		if !seen[name] {
			t.Errorf("flagAnyFiles lists --%s, which no command has", name)
		}
	}
}

// --snapshot completes references with what each is a snapshot of and when
// it was taken (a reference alone does not say which to pick); the
// engine's text is escaped, and a reference a shell cannot take is left out.
func TestCompletionDescribesSnapshots(t *testing.T) {
	srv := fakeEngine(t, map[string]string{
		"POST delphix/session": fakeSession,
		"POST delphix/login":   fakeLogin,
		"GET delphix/database": `{"type": "ListResult", "status": "OK", "result": [
			{"reference": "APPDATA_CONTAINER-1", "name": "ds1", "containerType": "DSOURCE"},
			{"reference": "APPDATA_CONTAINER-2", "name": "vdb\u001b[2J1", "containerType": "VDB"}]}`,
		"GET delphix/snapshot?database=APPDATA_CONTAINER-1": `{"type": "ListResult", "status": "OK", "result": [
			{"reference": "APPDATA_SNAPSHOT-3", "container": "APPDATA_CONTAINER-1", "timestamp": "2026-12-07T10:00:00.000Z"},
			{"reference": "APPDATA_SNAPSHOT-\n4", "container": "APPDATA_CONTAINER-1", "timestamp": "2026-12-07T11:00:00.000Z"}]}`,
		"GET delphix/snapshot?database=APPDATA_CONTAINER-2": `{"type": "ListResult", "status": "OK", "result": [
			{"reference": "APPDATA_SNAPSHOT-5", "container": "APPDATA_CONTAINER-2", "timestamp": "2026-12-07T12:00:00\tZ"}]}`,
	})
	code, out, _ := runCompletion(t, srv.URL, nil, "vdb", "provision", "v2", "--snapshot")
	want := "APPDATA_SNAPSHOT-3\tds1 2026-12-07T10:00:00.000Z\n" +
		"APPDATA_SNAPSHOT-5\tvdb\\x1b[2J1 2026-12-07T12:00:00 Z\n:4\n"
	if code != 0 || out != want {
		t.Errorf("vdb provision --snapshot: exit %d, stdout %q, want %q", code, out, want)
	}
}
