package sdk

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// Every package of the SDK has a package comment and every exported name a
// doc comment, so that go doc documents the whole SDK.
func TestEveryExportedNameIsDocumented(t *testing.T) {
	var dirs []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		fset := token.NewFileSet()
		var files []*ast.File
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		if len(files) == 0 {
			continue
		}
		{
			d, err := doc.NewFromFiles(fset, files, "github.com/dvpkit/dvp/sdk/"+filepath.ToSlash(dir))
			if err != nil {
				t.Fatal(err)
			}
			missing := func(kind, name string) { t.Errorf("%s: %s %s has no doc comment", dir, kind, name) }
			if d.Doc == "" {
				missing("package", d.Name)
			}
			values := func(vs []*doc.Value, kind string) {
				for _, v := range vs {
					if v.Doc != "" {
						continue
					}
					for _, s := range v.Decl.Specs {
						vs := s.(*ast.ValueSpec)
						if vs.Doc != nil || vs.Comment != nil {
							continue
						}
						for _, n := range vs.Names {
							if n.IsExported() {
								missing(kind, n.Name)
							}
						}
					}
				}
			}
			funcs := func(fs []*doc.Func, kind, prefix string) {
				for _, f := range fs {
					if f.Doc == "" {
						missing(kind, prefix+f.Name)
					}
				}
			}
			values(d.Consts, "const")
			values(d.Vars, "var")
			funcs(d.Funcs, "func", "")
			for _, ty := range d.Types {
				if ty.Doc == "" {
					missing("type", ty.Name)
				}
				values(ty.Consts, "const")
				values(ty.Vars, "var")
				funcs(ty.Funcs, "func", "")
				funcs(ty.Methods, "method", ty.Name+".")
			}
		}
	}
}
