package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/cli"
)

// App.Run builds only the command groups its arguments name
// (addGroupCommands); what it prints must be what the whole tree prints.
// Each command line runs twice: through App.Run, and on the whole tree
// (NewRootCmd outside App.Run) executed with the same arguments.
func TestLazyGroupsAnswerAsTheWholeTree(t *testing.T) {
	for _, args := range [][]string{
		{"--help"},
		{"help"},
		{},
		{"__complete", ""},
		{"__complete", "v"},
		{"__complete", "help", ""},
		{"vbd"},
		{"vdb", "--help"},
		{"plugin", "--help"},
		{"snapshot", "lst"},
		{"job"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			newIO := func() (cli.IO, *bytes.Buffer, *bytes.Buffer) {
				var out, errb bytes.Buffer
				return cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getwd: func() (string, error) { return t.TempDir(), nil }}, &out, &errb
			}
			io1, out1, err1 := newIO()
			code := (&cli.App{IO: io1, Version: "1.2.3"}).Run(context.Background(), args)

			io2, out2, err2 := newIO()
			app := &cli.App{IO: io2, Version: "1.2.3", Args: args}
			root := cli.NewRootCmd(app)
			root.SetArgs(args)
			_, execErr := root.ExecuteContextC(context.Background())

			if out1.String() != out2.String() {
				t.Errorf("stdout differs from the whole tree's:\n--- App.Run\n%s\n--- whole tree\n%s", out1, out2)
			}
			if out1.Len() == 0 && err1.Len() == 0 {
				t.Errorf("nothing printed (exit %d)", code)
			}
			// The whole tree's error is reported by App.Run, not by cobra:
			// compare the exit code's class instead of stderr's last line.
			if (code == 0) != (execErr == nil) {
				t.Errorf("App.Run exit %d, whole tree error %v", code, execErr)
			}
			if execErr == nil && err1.String() != err2.String() {
				t.Errorf("stderr differs from the whole tree's:\n--- App.Run\n%s\n--- whole tree\n%s", err1, err2)
			}
		})
	}
}
