package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dvpkit/dvp/internal/diag"
)

// What a command prints on stdout has a level, like its log lines on
// stderr, and each line prints once at its level:
//
//   - results (a verdict, a reference, a JSON report, the problems that
//     are errors) print unless -qq;
//   - messages (a success line, a sha256, a count, warnings) print unless
//     -q.
//
// So -q leaves errors and results, -qq nothing but what the log lets
// through at its level (critical only).

// resultOut is where a command's results go: stdout, or nowhere with -qq.
func (a *App) resultOut() io.Writer {
	if a.Quiet >= 2 {
		return io.Discard
	}
	return a.IO.Out
}

// messageOut is where a command's messages go on stdout: nowhere with -q.
func (a *App) messageOut() io.Writer {
	if a.Quiet >= 1 {
		return io.Discard
	}
	return a.IO.Out
}

// printProblems prints problems one per line: errors as results, warnings
// as messages.
func (a *App) printProblems(problems diag.List) {
	for _, p := range problems {
		w := a.resultOut()
		if p.Severity == diag.Warning {
			w = a.messageOut()
		}
		fmt.Fprintln(w, p.String())
	}
}

// errorFiles lists the files that have errors, sorted, each once.
func errorFiles(problems diag.List) []string {
	seen := map[string]bool{}
	var files []string
	for _, p := range problems {
		if p.Severity == diag.Error && p.File != "" && !seen[p.File] {
			seen[p.File] = true
			files = append(files, p.File)
		}
	}
	sort.Strings(files)
	return files
}

// joinFiles is files as a summary names them.
func joinFiles(files []string) string { return strings.Join(files, ", ") }

// inFiles is ", errors in FILES" for a summary, or "" without errors.
func inFiles(problems diag.List) string {
	if files := errorFiles(problems); len(files) > 0 {
		return ", errors in " + joinFiles(files)
	}
	return ""
}
