package cli_test

import (
	"io"
	"os"
	"strings"
	"testing"

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
