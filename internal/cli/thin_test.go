package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// maxRunLines bounds the run function of a command: flags -> options -> a
// plain function. Checks, discovery and output belong in that function (or
// a method of the options), where they can be read and tested alone.
const maxRunLines = 30

// TestCommandsAreThin fails when the RunE (or Run) of a command, the
// function literal its new...Cmd gives cobra, grows past maxRunLines.
func TestCommandsAreThin(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !strings.HasPrefix(fd.Name.Name, "new") || !strings.HasSuffix(fd.Name.Name, "Cmd") {
				continue
			}
			ast.Inspect(fd, func(n ast.Node) bool {
				kv, ok := n.(*ast.KeyValueExpr)
				if !ok {
					return true
				}
				if id, ok := kv.Key.(*ast.Ident); ok && (id.Name == "RunE" || id.Name == "Run") {
					seen++
					lines := fset.Position(kv.Value.End()).Line - fset.Position(kv.Value.Pos()).Line + 1
					if lines > maxRunLines {
						t.Errorf("%s: %s's %s is %d lines (at most %d): move its checks and work into a plain function", name, fd.Name.Name, id.Name, lines, maxRunLines)
					}
				}
				return true
			})
		}
	}
	if seen < 20 {
		t.Fatalf("found %d run functions: the test no longer finds the commands", seen)
	}
}
