package cli_test

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/dvpkit/dvp/docs"
	"github.com/dvpkit/dvp/internal/cli"
)

// A help topic named like a command could never be shown: dvp help NAME
// gives the command's help first.
func TestHelpTopicsDoNotShadowCommands(t *testing.T) {
	root := cli.NewRootCmd(&cli.App{IO: cli.IO{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard, Getwd: os.Getwd}})
	for _, tp := range docs.Topics {
		for _, c := range root.Commands() {
			if c.Name() == tp.Name || c.HasAlias(tp.Name) {
				t.Errorf("help topic %q has the name of the command %q", tp.Name, c.CommandPath())
			}
		}
	}
}

// The --help of every command stands alone: someone who installed only the
// binary has no docs folder, so no help sends them to a file of it
// (docs/upload.md, engine.md); a help topic says it instead (dvp help
// uploading). And no help speaks of the Python tool's commands.
func TestHelpStandsAlone(t *testing.T) {
	page := regexp.MustCompile(`docs/|\b[\w-]+\.md\b|delphix build|a http\b`)
	root := cli.NewRootCmd(&cli.App{IO: cli.IO{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard, Getwd: os.Getwd}})
	n := 0
	var walk func(path []string, c *cobra.Command)
	walk = func(path []string, c *cobra.Command) {
		if c.Hidden {
			return
		}
		n++
		code, out := runInProcessOut(t, append(append([]string(nil), path...), "--help")...)
		if code != 0 || out == "" {
			t.Errorf("dvp %s --help: exit %d, stdout %q", strings.Join(path, " "), code, out)
		}
		for _, m := range page.FindAllString(out, -1) {
			t.Errorf("dvp %s --help mentions %q, which a binary-only user cannot follow:\n%s", strings.Join(path, " "), m, out)
		}
		for _, sub := range c.Commands() {
			walk(append(append([]string(nil), path...), sub.Name()), sub)
		}
	}
	walk(nil, root)
	if n < 50 {
		t.Fatalf("only %d commands' help read: the walk missed the tree", n)
	}
}
