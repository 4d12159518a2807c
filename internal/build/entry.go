package build

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dvpkit/dvp/internal/config"
	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/fsutil"
)

// entryInfo is what the entry point check learned about the sources.
type entryInfo struct {
	File string // <srcDir>/<module>.go
	Line int    // of the entry symbol's declaration (0 when unknown)
	Col  int
	// funcs maps the names of package main's top-level functions to their
	// positions, to point migration problems at the function; read from
	// srcDir on first use (funcPosition): only a build with such a
	// problem needs it.
	srcDir    string
	funcsOnce sync.Once
	funcs     map[string]token.Position
}

// checkEntryPoint checks entryPoint "<module>:<symbol>" of a Go plugin: the
// module names the Go file <srcDir>/<module>.go of package main, and the
// symbol is a package-level variable of that file. A file that does not
// parse is left to the compiler, which reports it at its line.
func checkEntryPoint(cfg *config.Config) (*entryInfo, diag.List) {
	module, symbol := cfg.EntryModule(), cfg.EntrySymbol()
	line, col := cfg.Position("entryPoint")
	bad := func(format string, args ...any) diag.List {
		return diag.List{diag.Errorf(cfg.Path, line, col, format, args...)}
	}
	if module == "" || symbol == "" {
		return nil, bad("entryPoint '%s' must have the form '<module>:<symbol>', e.g. 'plugin_runner:plugin'", cfg.EntryPoint)
	}
	if strings.ContainsAny(module, `./\`) {
		p := bad("The entry point module '%s' must name a Go file directly in srcDir ('%s.go' is not): a Go plugin's entry point is '<file name without .go>:<variable>' in package main", module, module)
		p[0].Hint = "e.g. entryPoint: plugin_runner:plugin for the variable plugin in " + filepath.Join(cfg.SrcDir, "plugin_runner.go")
		return nil, p
	}
	info := &entryInfo{File: filepath.Join(cfg.SrcPath, module+".go"), srcDir: cfg.SrcPath}
	src, err := fsutil.ReadRegular(info.File, maxSourceFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			p := bad("No module named '%s': the entry point '%s' needs the Go file %s", module, cfg.EntryPoint, info.File)
			p[0].Hint = fmt.Sprintf("create %s.go in srcDir with a package-level variable '%s', or fix entryPoint", module, symbol)
			return nil, p
		}
		return nil, bad("cannot read the entry point file %s: %v", info.File, err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, info.File, src, parser.SkipObjectResolution)
	if err != nil {
		return info, nil // the compiler reports syntax errors at their lines
	}
	if f.Name.Name != "main" {
		pos := fset.Position(f.Name.Pos())
		p := diag.Errorf(info.File, pos.Line, pos.Column, "the entry point file is in package %s; it must be in package main (the plugin is a program)", f.Name.Name)
		return info, diag.List{p}
	}
	var found ast.Node
	kind := ""
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.Name == symbol {
							found = n
							kind = d.Tok.String()
						}
					}
				case *ast.TypeSpec:
					if s.Name.Name == symbol {
						found, kind = s.Name, "type"
					}
				}
			}
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == symbol {
				found, kind = d.Name, "func"
			}
		}
	}
	if found == nil {
		p := diag.Errorf(info.File, 0, 0, "Entry point '%s' does not exist. '%s' is not a symbol in module '%s'. There is no package-level variable %s in %s.", cfg.EntryPoint, symbol, module, symbol, filepath.Base(info.File))
		p.Hint = fmt.Sprintf("declare 'var %s = generated.Plugin{...}' in %s, or fix entryPoint in %s", symbol, filepath.Base(info.File), filepath.Base(cfg.Path))
		return info, diag.List{p}
	}
	pos := fset.Position(found.Pos())
	info.Line, info.Col = pos.Line, pos.Column
	if kind != "var" {
		p := diag.Errorf(info.File, pos.Line, pos.Column, "Entry point '%s': '%s' is a %s; it must be a package-level variable (var %s = ...)", cfg.EntryPoint, symbol, kind, symbol)
		return info, diag.List{p}
	}
	return info, nil
}

// collectFuncs returns the positions of the top-level functions of package
// main's files in srcDir (best effort: files that do not parse are
// skipped).
func collectFuncs(srcDir string) map[string]token.Position {
	funcs := map[string]token.Position{}
	matches, _ := filepath.Glob(filepath.Join(srcDir, "*.go"))
	fset := token.NewFileSet()
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, m, nil, parser.SkipObjectResolution)
		if err != nil || f.Name.Name != "main" {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				funcs[fd.Name.Name] = fset.Position(fd.Name.Pos())
			}
		}
	}
	return funcs
}

// funcPosition locates a migration function reported by the runtime under
// its Go name ("main.upgradeRepository"); ok is false when it is not a
// top-level function of package main.
func (e *entryInfo) funcPosition(name string) (token.Position, bool) {
	if e == nil {
		return token.Position{}, false
	}
	n, ok := strings.CutPrefix(name, "main.")
	if !ok {
		return token.Position{}, false
	}
	e.funcsOnce.Do(func() { e.funcs = collectFuncs(e.srcDir) })
	p, ok := e.funcs[n]
	return p, ok
}
