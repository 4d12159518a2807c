package cli_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/cli"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// misspell drops the second letter of a name ("serve" -> "srve").
func misspell(name string) string { return name[:1] + name[2:] }

// runDvp runs the dvp binary (the test binary, which testscript.Main put on
// PATH as dvp) and returns its exit code and stderr.
func runDvp(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("dvp", args...)
	cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir(), "DVP_ENGINE=", "DVP_USER=", "DVP_PASSWORD=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	}
	t.Fatalf("dvp %s: %v", strings.Join(args, " "), err)
	return 0, ""
}

// runInProcess runs dvp's command line in this process (cli.Run, whose code
// is the one cmd/dvp exits with), with a home of its own and no engine
// settings; it returns the exit code and stderr. The table tests below run
// some 200 command lines: a process each cost more than the rest of this
// package's tests together, and testdata/script checks the binary's own
// exit codes for the same errors.
func runInProcess(t *testing.T, args ...string) (int, string) {
	t.Helper()
	code, _, stderr := runInProcessIO(t, args...)
	return code, stderr
}

// runInProcessOut is runInProcess returning stdout instead of stderr.
func runInProcessOut(t *testing.T, args ...string) (int, string) {
	t.Helper()
	code, stdout, _ := runInProcessIO(t, args...)
	return code, stdout
}

func runInProcessIO(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	stdio := cli.IO{
		In: strings.NewReader(""), Out: &stdout, Err: &stderr, Home: t.TempDir(), Getwd: os.Getwd,
		Getenv: func(k string) string {
			if strings.HasPrefix(k, "DVP_") {
				return ""
			}
			return os.Getenv(k)
		},
	}
	code := cli.Run(context.Background(), args, stdio, "test")
	return code, stdout.String(), stderr.String()
}

// TestMisspelledCommands runs every command path of the tree with a
// misspelled subcommand (groups) or flag (commands), and every group with
// no command: each is a usage error (exit 2) that names what was meant.
func TestMisspelledCommands(t *testing.T) {
	root := cli.NewRootCmd(&cli.App{IO: cli.IO{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard, Getwd: os.Getwd}})
	var walk func(path []string, c *cobra.Command)
	n := 0
	walk = func(path []string, c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		if c.HasSubCommands() {
			for _, sub := range c.Commands() {
				if sub.Hidden {
					continue
				}
				// The typo alone, then followed by --help and by a flag
				// of the command meant: neither hides the typo.
				typo := append(append([]string(nil), path...), misspell(sub.Name()))
				for _, tail := range [][]string{nil, {"--help"}, {"--" + firstFlag(sub) + "=x"}} {
					args := append(append([]string(nil), typo...), tail...)
					n++
					t.Run(strings.Join(args, " "), func(t *testing.T) {
						t.Parallel()
						code, stderr := runInProcess(t, args...)
						if code != 2 || !strings.Contains(stderr, "did you mean \""+sub.Name()+"\"?") {
							t.Errorf("dvp %s: exit %d, stderr:\n%s\nwant exit 2 and did you mean %q", strings.Join(args, " "), code, stderr, sub.Name())
						}
					})
				}
				// An alias (dvp plugin is dvp toolkit) mistyped is
				// suggested as written.
				for _, alias := range sub.Aliases {
					args := append(append([]string(nil), path...), misspell(alias))
					n++
					t.Run(strings.Join(args, " "), func(t *testing.T) {
						t.Parallel()
						code, stderr := runInProcess(t, args...)
						if code != 2 || !strings.Contains(stderr, "did you mean \""+alias+"\"?") {
							t.Errorf("dvp %s: exit %d, stderr:\n%s\nwant exit 2 and did you mean %q", strings.Join(args, " "), code, stderr, alias)
						}
					})
				}
			}
			if len(path) > 0 {
				group := append([]string(nil), path...)
				t.Run(strings.Join(group, " ")+" (no command)", func(t *testing.T) {
					t.Parallel()
					if code, stderr := runInProcess(t, group...); code != 2 || !strings.Contains(stderr, "needs a command") {
						t.Errorf("dvp %s: exit %d, stderr:\n%s\nwant exit 2", strings.Join(group, " "), code, stderr)
					}
					if code, _ := runInProcess(t, append(group, "--help")...); code != 0 {
						t.Errorf("dvp %s --help: exit %d, want 0", strings.Join(group, " "), code)
					}
				})
			}
			for _, sub := range c.Commands() {
				walk(append(append([]string(nil), path...), sub.Name()), sub)
				for _, alias := range sub.Aliases {
					walk(append(append([]string(nil), path...), alias), sub)
				}
			}
			return
		}
		// Every command: an extra argument, and a missing one when it
		// takes some, are usage errors that say so.
		extra := append(append([]string(nil), path...), leafArgs(c, 1)...)
		n++
		t.Run(strings.Join(extra, " "), func(t *testing.T) {
			t.Parallel()
			code, stderr := runInProcess(t, extra...)
			if code != 2 || !strings.Contains(stderr, "Got unexpected extra argument (\"extra-arg\")") {
				t.Errorf("dvp %s: exit %d, stderr:\n%s\nwant exit 2 and Got unexpected extra argument", strings.Join(extra, " "), code, stderr)
			}
		})
		if want := leafArgs(c, 0); len(want) > 0 {
			missing := append(append([]string(nil), path...), want[:len(want)-1]...)
			n++
			t.Run(strings.Join(missing, " ")+" (missing argument)", func(t *testing.T) {
				t.Parallel()
				code, stderr := runInProcess(t, missing...)
				if code != 2 || !strings.Contains(stderr, "Missing argument ") {
					t.Errorf("dvp %s: exit %d, stderr:\n%s\nwant exit 2 and Missing argument", strings.Join(missing, " "), code, stderr)
				}
			})
		}
		var flag string
		c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
			if flag == "" && len(f.Name) >= 4 && f.Name != "help" {
				flag = f.Name
			}
		})
		if flag == "" {
			return
		}
		args := append(append([]string(nil), path...), "--"+misspell(flag))
		n++
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			code, stderr := runInProcess(t, args...)
			if code != 2 || !strings.Contains(stderr, "did you mean --"+flag+"?") {
				t.Errorf("dvp %s: exit %d, stderr:\n%s\nwant exit 2 and did you mean --%s", strings.Join(args, " "), code, stderr, flag)
			}
		})
	}
	walk(nil, root)
	if n < 20 {
		t.Fatalf("only %d command paths checked: the walk missed the tree", n)
	}
}

// leafArgs returns arguments for command c: one per upper-case placeholder
// of its usage line ("sync NAME" takes one), then extra of "extra-arg".
func leafArgs(c *cobra.Command, extra int) []string {
	var args []string
	for _, f := range strings.Fields(c.Use)[1:] {
		if strings.ToUpper(f) != f || strings.ContainsAny(f, "[(-|") {
			break
		}
		args = append(args, "x")
	}
	for i := 0; i < extra; i++ {
		args = append(args, "extra-arg")
	}
	return args
}

// firstFlag returns the name of a flag of c, or of the first command under
// it: one the command meant takes (verbose when it has none of its own).
func firstFlag(c *cobra.Command) string {
	for c.HasSubCommands() {
		c = c.Commands()[0]
	}
	name := "verbose"
	c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
		if name == "verbose" && f.Name != "help" {
			name = f.Name
		}
	})
	return name
}
