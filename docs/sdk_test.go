package docs_test

import (
	"bytes"
	"go/ast"
	"go/build"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// sdkPackage is an exported package of the plugin SDK (sdk/, a module of
// its own) as go doc shows it.
type sdkPackage struct {
	name string // what a plugin calls it: sdk, libs, types, ...
	dir  string
	doc  *doc.Package
}

// sdkPackages are the SDK's public packages and, for each, whether
// docs/sdk.md is their reference (runtime and protocol are documented by go
// doc and docs/runtime-protocol.md: a plugin rarely uses them).
var sdkPackages = []struct {
	dir       string
	reference bool
}{
	{"sdk", true},
	{"sdk/libs", true},
	{"sdk/types", true},
	{"sdk/plugintest", true},
	{"sdk/runtime", false},
	{"sdk/protocol", false},
}

func loadSDKPackage(t *testing.T, dir string) sdkPackage {
	t.Helper()
	fset := token.NewFileSet()
	path := filepath.Join("..", filepath.FromSlash(dir))
	bp, err := build.ImportDir(path, 0) // the files of this GOOS, tests apart
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(path, name), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	name := bp.Name
	d, err := doc.NewFromFiles(fset, files, "github.com/dvpkit/dvp/"+dir)
	if err != nil {
		t.Fatal(err)
	}
	return sdkPackage{name: name, dir: dir, doc: d}
}

// exported returns the package's exported names, methods as Type.Method,
// each with its doc comment ("" when it has none).
func (p sdkPackage) exported() map[string]string {
	names := map[string]string{}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			for _, spec := range v.Decl.Specs {
				vs := spec.(*ast.ValueSpec)
				for _, n := range vs.Names {
					if !n.IsExported() {
						continue
					}
					text := v.Doc
					if vs.Doc != nil {
						text += vs.Doc.Text()
					}
					if vs.Comment != nil {
						text += vs.Comment.Text()
					}
					names[n.Name] = text
				}
			}
		}
	}
	funcs := func(prefix string, fs []*doc.Func) {
		for _, f := range fs {
			if ast.IsExported(f.Name) {
				names[prefix+f.Name] = f.Doc
			}
		}
	}
	values(p.doc.Consts)
	values(p.doc.Vars)
	funcs("", p.doc.Funcs)
	for _, typ := range p.doc.Types {
		names[typ.Name] = typ.Doc
		values(typ.Consts)
		values(typ.Vars)
		funcs("", typ.Funcs)
		funcs(typ.Name+".", typ.Methods)
	}
	return names
}

// Every exported identifier of the SDK has a doc comment: go doc is the
// SDK's reference, docs/sdk.md its guide.
func TestSDKIdentifiersHaveDocComments(t *testing.T) {
	for _, sp := range sdkPackages {
		p := loadSDKPackage(t, sp.dir)
		if strings.TrimSpace(p.doc.Doc) == "" {
			t.Errorf("package %s has no package comment", sp.dir)
		}
		for name, text := range p.exported() {
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s.%s has no doc comment", p.name, name)
			}
		}
	}
}

// Every exported identifier of the packages a plugin uses (sdk, libs,
// types, plugintest) is in docs/sdk.md, methods excepted (go doc lists
// them with their type).
func TestSDKReferenceIsComplete(t *testing.T) {
	ref, err := os.ReadFile("sdk.md")
	if err != nil {
		t.Fatal(err)
	}
	word := func(name string) *regexp.Regexp { return regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`) }
	for _, sp := range sdkPackages {
		if !sp.reference {
			continue
		}
		p := loadSDKPackage(t, sp.dir)
		var missing []string
		for name := range p.exported() {
			if strings.Contains(name, ".") {
				continue
			}
			if !word(name).Match(ref) {
				missing = append(missing, p.name+"."+name)
			}
		}
		sort.Strings(missing)
		for _, m := range missing {
			t.Errorf("docs/sdk.md does not mention %s", m)
		}
	}
}

// Every SDK name the documentation uses (sdk.X, libs.X, types.X,
// plugintest.X, runtime.X, protocol.X in docs/ and its tutorial) exists.
func TestDocumentedSDKNamesExist(t *testing.T) {
	exist := map[string]map[string]bool{}
	for _, sp := range sdkPackages {
		p := loadSDKPackage(t, sp.dir)
		exist[p.name] = map[string]bool{}
		for name := range p.exported() {
			exist[p.name][name] = true
			if i := strings.IndexByte(name, '.'); i > 0 {
				exist[p.name][name[i+1:]] = true // a method, written pkg.Method in prose
			}
		}
	}
	ref := regexp.MustCompile(`\b(sdk|libs|types|plugintest|runtime|protocol)\.([A-Z]\w*)`)
	pages := docPages(t)
	checked := 0
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if pythonOnly.MatchString(line) && strings.Contains(line, "libs.PlatformHandler") {
				continue // the Python SDK's name, said to have no counterpart
			}
			for _, m := range ref.FindAllStringSubmatch(line, -1) {
				checked++
				if m[0] == "runtime.Goexit" {
					continue // Go's package runtime
				}
				if !exist[m[1]][m[2]] {
					t.Errorf("%s:%d: %s.%s does not exist in the SDK", page, i+1, m[1], m[2])
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d SDK names found in the documentation", checked)
	}
}

// goBlocks returns the go blocks of a page.
func goBlocks(t *testing.T, page string) []block {
	t.Helper()
	var out []block
	for _, b := range readBlocks(t, page) {
		if b.lang == "go" {
			out = append(out, b)
		}
	}
	return out
}

// withoutLayout drops what gofmt and a writer's line breaks change:
// white space and the comma before a closing brace.
func withoutLayout(s string) string {
	s = strings.Join(strings.Fields(s), "")
	return strings.ReplaceAll(s, ",}", "}")
}

// docs/sdk.md's plugin value (section 2) is the seed plugin's, and its
// generated LinkedSourceDefinition in docs/codegen.md is what dvp generates
// for the seed's schema. (Its unit test of section 6 runs in
// TestTutorialOffline, in the tutorial's plugin.)
func TestReferenceExamplesAreTheSeeds(t *testing.T) {
	seed := filepath.Join("..", "testdata", "plugins", "seed-rsync", "src")
	decls := goDecls(t, seed)
	var found bool
	for _, b := range goBlocks(t, "sdk.md") {
		if i := strings.Index(b.body, "var plugin = "); i >= 0 {
			found = true
			body := b.body[i:]
			body = body[:strings.Index(body, "\n}\n")+2]
			if got, want := withoutLayout(body), withoutLayout(decls["var plugin"]); got != "var"+want {
				t.Errorf("%s: the plugin value is not the seed's:\n%s\nseed:\nvar %s", b, body, decls["var plugin"])
			}
		}
	}
	if !found {
		t.Error("docs/sdk.md has no plugin value (var plugin = ...) any more")
	}

	generated, err := os.ReadFile(filepath.Join(seed, "generated", "linked_source_definition.go"))
	if err != nil {
		t.Fatal(err)
	}
	found = false
	for _, b := range goBlocks(t, "codegen.md") {
		i := strings.Index(b.body, "// LinkedSourceDefinition is")
		if i < 0 {
			continue
		}
		found = true
		typ := b.body[i:]
		typ = typ[:strings.Index(typ, "\n}\n")+3]
		if !strings.Contains(string(generated), typ) {
			t.Errorf("%s: the generated LinkedSourceDefinition is not what dvp generates for the seed (testdata/plugins/seed-rsync/src/generated/linked_source_definition.go):\n%s", b, typ)
		}
	}
	if !found {
		t.Error("docs/codegen.md has no generated LinkedSourceDefinition any more")
	}
}

// goDecls returns the top-level functions and variables of the non-test Go
// files of dir, printed without their comments, by name.
func goDecls(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	decls := map[string]string{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution) // no comments
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			var buf bytes.Buffer
			switch d := d.(type) {
			case *ast.FuncDecl:
				printer.Fprint(&buf, fset, d)
				decls["func "+d.Name.Name] = buf.String()
			case *ast.GenDecl:
				if d.Tok != token.VAR && d.Tok != token.CONST && d.Tok != token.TYPE {
					continue
				}
				for _, s := range d.Specs {
					buf.Reset()
					printer.Fprint(&buf, fset, s)
					switch s := s.(type) {
					case *ast.ValueSpec:
						decls[d.Tok.String()+" "+s.Names[0].Name] = buf.String()
					case *ast.TypeSpec:
						decls["type "+s.Name.Name] = buf.String()
					}
				}
			}
		}
	}
	return decls
}

// exampleBodies returns the bodies of the Example functions of the SDK and
// of internal/codegen, as written (comments included), up to their
// "// Output:" comment.
func exampleBodies(t *testing.T) map[string]string {
	t.Helper()
	bodies := map[string]string{}
	var files []string
	for _, glob := range []string{"sdk/*/example_test.go", "sdk/example_test.go", "internal/codegen/example_test.go"} {
		found, err := filepath.Glob(filepath.Join("..", filepath.FromSlash(glob)))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, found...)
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !strings.HasPrefix(fd.Name.Name, "Example") || fd.Body == nil {
				continue
			}
			body := string(src[fset.Position(fd.Body.Lbrace).Offset+1 : fset.Position(fd.Body.Rbrace).Offset])
			if i := strings.Index(body, "// Output:"); i >= 0 {
				body = body[:i]
			}
			bodies[filepath.Base(filepath.Dir(path))+"."+fd.Name.Name] = body
		}
	}
	if len(bodies) < 6 {
		t.Fatalf("only %d Example functions found in sdk/ and internal/codegen", len(bodies))
	}
	return bodies
}

// Every go block of docs/sdk.md and docs/codegen.md runs somewhere, so
// that it cannot drift from the code: the plugin value and the generated
// LinkedSourceDefinition are the seed's (TestReferenceExamplesAreTheSeeds),
// the unit test and the migrations are compiled and run in the tutorial's
// plugin (TestTutorialOffline, make e2e), and any other block is the code
// of an Example function, which go test runs and checks.
func TestReferenceGoBlocksRun(t *testing.T) {
	examples := exampleBodies(t)
	blocks := append(goBlocks(t, "sdk.md"), goBlocks(t, "codegen.md")...)
	for _, b := range blocks {
		switch {
		case strings.Contains(b.body, "var plugin = generated.Plugin{"),
			strings.Contains(b.body, "Upgrade: []generated.Migration{"),
			strings.Contains(b.body, "func Test"),
			strings.Contains(b.body, "// LinkedSourceDefinition is the linkedSourceDefinition schema"):
			continue
		}
		found := false
		for _, body := range examples {
			if strings.Contains(withoutLayout(body), withoutLayout(b.body)) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s is not the code of an Example function (sdk/**/example_test.go, internal/codegen/example_test.go): make it one, so that go test runs it", b)
		}
	}
}

// funcTypes returns the parameter and result types of a function type, as
// Go prints them.
func funcTypes(fset *token.FileSet, ft *ast.FuncType) (params, results []string) {
	list := func(fl *ast.FieldList) []string {
		var out []string
		if fl == nil {
			return out
		}
		for _, f := range fl.List {
			var buf bytes.Buffer
			printer.Fprint(&buf, fset, f.Type)
			n := len(f.Names)
			if n == 0 {
				n = 1
			}
			for range n {
				out = append(out, buf.String())
			}
		}
		return out
	}
	return list(ft.Params), list(ft.Results)
}

// The operations table of docs/sdk.md (section 2) gives each field of the
// generated Plugin the signature dvp generates (testdata/codegen-operations:
// the generated operations of each plugin type), with the table's
// abbreviations expanded.
func TestReferenceOperationSignaturesAreGenerated(t *testing.T) {
	abbrev := regexp.MustCompile(`\b(Linked|L|V|R|SC|S|SP)\b`)
	defs := map[string]string{"L": "LinkedSourceDefinition", "V": "VirtualSourceDefinition", "R": "RepositoryDefinition",
		"SC": "SourceConfigDefinition", "S": "SnapshotDefinition", "SP": "SnapshotParametersDefinition"}
	row := regexp.MustCompile("^\\| `(Discovery|Linked|Virtual)\\.(\\w+)`(?: / `(\\w+)`)? \\|[^|]*\\| (`func\\(.*\\)[^`]*`|same as (\\w+)) \\|")
	data, err := os.ReadFile("sdk.md")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{} // Group.Field -> signature with abbreviations
	for _, line := range strings.Split(string(data), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		sig := strings.Trim(m[4], "`")
		if m[5] != "" {
			sig = docs[m[1]+"."+m[5]]
			if sig == "" {
				t.Errorf("docs/sdk.md: %s.%s is the 'same as %s', which the table does not give before it", m[1], m[2], m[5])
			}
		}
		docs[m[1]+"."+m[2]] = sig
		if m[3] != "" {
			docs[m[1]+"."+m[3]] = sig
		}
	}
	if len(docs) < 20 {
		t.Fatalf("only %d operations found in docs/sdk.md's table", len(docs))
	}
	for _, pt := range []string{"STAGED", "DIRECT"} {
		path := filepath.Join("..", "testdata", "codegen-operations", pt+".go.golden")
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		linked := "sdk.StagedSource[L]"
		if pt == "DIRECT" {
			linked = "sdk.DirectSource[L]"
		}
		seen := 0
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				group, ok := strings.CutSuffix(ts.Name.Name, "Operations")
				st, isStruct := ts.Type.(*ast.StructType)
				if !ok || !isStruct {
					continue
				}
				for _, field := range st.Fields.List {
					ft, ok := field.Type.(*ast.FuncType)
					if !ok {
						continue
					}
					name := group + "." + field.Names[0].Name
					seen++
					sig, ok := docs[name]
					if !ok {
						t.Errorf("docs/sdk.md's operations table has no row for %s (%s)", name, pt)
						continue
					}
					if strings.Contains(sig, "sdk.StagedSource[") && pt == "DIRECT" {
						t.Errorf("docs/sdk.md: %s takes an sdk.StagedSource, but a DIRECT plugin has it", name)
					}
					src := strings.Replace(sig, "func(ctx,", "func(ctx context.Context,", 1)
					src = abbrev.ReplaceAllStringFunc(src, func(a string) string {
						if a == "Linked" {
							return strings.ReplaceAll(linked, "L", defs["L"])
						}
						return defs[a]
					})
					expr, err := parser.ParseExpr(src)
					if err != nil {
						t.Errorf("docs/sdk.md: %s: %q does not parse: %v", name, src, err)
						continue
					}
					dp, dr := funcTypes(token.NewFileSet(), expr.(*ast.FuncType))
					gp, gr := funcTypes(fset, ft)
					if !reflect.DeepEqual(dp, gp) || !reflect.DeepEqual(dr, gr) {
						t.Errorf("docs/sdk.md: %s (%s) is %s\n(%v -> %v); dvp generates %v -> %v", name, pt, sig, dp, dr, gp, gr)
					}
				}
			}
		}
		if seen < 10 {
			t.Fatalf("%s: only %d operation fields found", path, seen)
		}
	}
}

// The platform libraries' table of docs/sdk.md (section 3) gives each
// function's parameter names, and the types it gives are the code's.
func TestReferenceLibrarySignaturesAreTheCode(t *testing.T) {
	fset := token.NewFileSet()
	code := map[string]*ast.FuncType{}
	files, _ := filepath.Glob(filepath.Join("..", "sdk", "libs", "*.go"))
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.IsExported() {
				code[fd.Name.Name] = fd.Type
			}
		}
	}
	row := regexp.MustCompile("^\\| `([A-Z]\\w*)\\(([^)]*)\\) ?([^`]*)` \\|")
	data, err := os.ReadFile("sdk.md")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i, line := range strings.Split(string(data), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil || code[m[1]] == nil {
			continue
		}
		checked++
		ft := code[m[1]]
		var names, types []string
		for _, f := range ft.Params.List {
			var buf bytes.Buffer
			printer.Fprint(&buf, fset, f.Type)
			for _, n := range f.Names {
				names = append(names, n.Name)
				types = append(types, buf.String())
			}
		}
		params := strings.Split(m[2], ",")
		if len(params) != len(names) {
			t.Errorf("docs/sdk.md:%d: %s has %d parameters in the docs, %d in sdk/libs", i+1, m[1], len(params), len(names))
			continue
		}
		for j, p := range params {
			fields := strings.Fields(strings.TrimSpace(p))
			name := strings.TrimSuffix(fields[0], "...")
			if name != names[j] {
				t.Errorf("docs/sdk.md:%d: %s's parameter %d is %s in the docs, %s in sdk/libs", i+1, m[1], j+1, name, names[j])
			}
			if len(fields) == 2 && fields[1] != types[j] {
				t.Errorf("docs/sdk.md:%d: %s's parameter %s is a %s in the docs, a %s in sdk/libs", i+1, m[1], name, fields[1], types[j])
			}
		}
		_, results := funcTypes(fset, ft)
		want := strings.Join(results, ", ")
		if len(results) > 1 {
			want = "(" + want + ")"
		}
		if strings.TrimSpace(m[3]) != want {
			t.Errorf("docs/sdk.md:%d: %s returns %s in the docs, %s in sdk/libs", i+1, m[1], m[3], want)
		}
	}
	if checked < 6 {
		t.Fatalf("only %d library signatures found in docs/sdk.md", checked)
	}
}
