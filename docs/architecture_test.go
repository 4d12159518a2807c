package docs_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/dvpkit/dvp"

// productPackages returns the packages of the repository (both modules),
// by directory relative to the root, with the product packages each
// non-test file imports.
func productPackages(t *testing.T) map[string][]string {
	t.Helper()
	pkgs := map[string][]string{}
	for dir, imports := range packageImports(t) {
		pkgs[dir] = nil
		for _, p := range imports {
			if p == module {
				pkgs[dir] = append(pkgs[dir], ".")
			} else if strings.HasPrefix(p, module+"/") {
				pkgs[dir] = append(pkgs[dir], strings.TrimPrefix(p, module+"/"))
			}
		}
	}
	return pkgs
}

// packageImports returns the packages of the repository (both modules), by
// directory relative to the root, with every import path (the standard
// library's, other modules', the product's) of their non-test files.
func packageImports(t *testing.T) map[string][]string {
	t.Helper()
	root := ".."
	pkgs := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || n == ".git" || (strings.HasPrefix(n, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if _, ok := pkgs[rel]; !ok {
			pkgs[rel] = nil
		}
		if strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			pkgs[rel] = append(pkgs[rel], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// Every package of the repository is named in docs/architecture.md, and
// every internal/ path the page names exists.
func TestArchitectureMapsEveryPackage(t *testing.T) {
	page, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(page)
	pkgs := productPackages(t)
	var dirs []string
	for d := range pkgs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		switch {
		case d == ".":
			if !strings.Contains(text, "root package") {
				t.Errorf("docs/architecture.md does not describe the module's root package (embed.go)")
			}
		case strings.HasPrefix(d, "third_party/") && d != "third_party/jsonschema":
			// the patched module's own packages
		case strings.HasPrefix(d, "internal/engine/e2e/"):
			// programs of the e2e tests
		default:
			if !regexp.MustCompile("`" + regexp.QuoteMeta(d) + "[`/ ]").MatchString(text) {
				t.Errorf("docs/architecture.md does not name the package %s", d)
			}
		}
	}
	for _, sub := range regexp.MustCompile(`(?:^|[^/\w])(internal/[a-z0-9_]+(?:/[a-z0-9_]+)*)`).FindAllStringSubmatch(text, -1) {
		m := sub[1]
		if _, err := os.Stat(filepath.Join("..", filepath.FromSlash(m))); err != nil {
			if _, err := os.Stat(filepath.Join("..", filepath.FromSlash(m)+".go")); err != nil {
				t.Errorf("docs/architecture.md names %s, which does not exist", m)
			}
		}
	}
}

// leaves are the packages docs/architecture.md calls "leaves used
// everywhere": they import no other product package than leaves.
var leaves = []string{
	".", "docs", "internal/diag", "internal/fsutil", "internal/logging", "internal/settings",
	"internal/termsafe", "internal/jsonpointer", "internal/pycompat", "internal/jsonschemamsg",
	"internal/engineapi", "internal/safefs", "internal/sandbox", "internal/zipfile", "sdk",
}

func isLeaf(p string) bool {
	for _, l := range leaves {
		if p == l || (l != "." && strings.HasPrefix(p, l+"/")) {
			return true
		}
	}
	return false
}

// testHelpers are the packages docs/architecture.md lists as imported by
// tests only.
var testHelpers = []string{"internal/engine/enginetest", "internal/testbuild", "internal/jsonschemamsg/msgtest", "internal/testio"}

// The dependencies point the way docs/architecture.md draws them.
func TestArchitectureLayers(t *testing.T) {
	pkgs := productPackages(t)
	if imps := strings.Join(pkgs["cmd/dvp"], " "); !strings.Contains(imps, "internal/cli") || len(pkgs) < 40 {
		t.Fatalf("%d packages, cmd/dvp imports %q: the walk is broken", len(pkgs), imps)
	}
	client := regexp.MustCompile(`^internal/(cli|build|scaffold|upload|engineclient|dvptest|project|codegen|sdkcopy)(/|$)`)
	for p, imports := range pkgs {
		for _, imp := range imports {
			if isLeaf(p) && !isLeaf(imp) {
				t.Errorf("%s (a leaf) imports %s", p, imp)
			}
			if imp == "internal/cli" && p != "cmd/dvp" {
				t.Errorf("%s imports internal/cli (only cmd/dvp may)", p)
			}
			if p == "internal/cli" && strings.HasPrefix(imp, "internal/engine/") && imp != "internal/engine/sched" {
				t.Errorf("internal/cli imports %s: it reaches the engine through internal/engine (and sched's policy parsers) only", imp)
			}
			if p == "internal/cli" && imp == "internal/sandbox" {
				t.Errorf("internal/cli imports internal/sandbox: it opens the sandbox through internal/engine")
			}
			if strings.HasPrefix(p, "internal/engine") && !strings.HasPrefix(p, "internal/engineapi") && !strings.HasPrefix(p, "internal/engineclient") && client.MatchString(imp) {
				t.Errorf("%s (the engine) imports %s (the client side)", p, imp)
			}
			if slices.Contains(testHelpers, imp) && !slices.Contains(testHelpers, p) {
				t.Errorf("%s imports %s, a helper of tests (only tests may)", p, imp)
			}
			if strings.HasPrefix(p, "internal/pycompat") && !strings.HasPrefix(imp, "internal/pycompat") && imp != "internal/jsonpointer" {
				t.Errorf("%s (the Python-parity quarantine) imports %s", p, imp)
			}
		}
	}
}

// engineImports are the engine packages each engine package may import
// (docs/architecture.md, "Layers": api puts guard in front of core; core
// uses jobs, sched, exec, store and secrets; exec uses store's layout of
// the data directory; jobs records jobs through store; store seals secrets
// with secrets' keeper). internal/engine, the wiring, may import them all;
// a new engine package must be added here.
var engineImports = map[string][]string{
	"internal/engine/api":        {"internal/engine/core", "internal/engine/guard"},
	"internal/engine/guard":      nil,
	"internal/engine/core":       {"internal/engine/jobs", "internal/engine/sched", "internal/engine/exec", "internal/engine/store", "internal/engine/secrets"},
	"internal/engine/jobs":       {"internal/engine/store"},
	"internal/engine/exec":       {"internal/engine/store", "internal/engine/secrets"},
	"internal/engine/store":      {"internal/engine/secrets"},
	"internal/engine/sched":      nil,
	"internal/engine/secrets":    nil,
	"internal/engine/enginetest": nil,
}

// Inside the engine the arrows point down: HTTP (api, guard) above the
// workflows (core), the workflows above jobs, execution and storage, and
// nothing below imports anything above it.
func TestArchitectureEngineLayers(t *testing.T) {
	for p, imports := range productPackages(t) {
		if p == "internal/engine" || !strings.HasPrefix(p, "internal/engine/") || p == "internal/engine/e2e" || strings.HasPrefix(p, "internal/engine/e2e/") {
			continue
		}
		allowed, ok := engineImports[p]
		if !ok {
			t.Errorf("%s is not in engineImports (docs/architecture_test.go): say which engine packages it may import", p)
			continue
		}
		for _, imp := range imports {
			if imp == "internal/engine" || strings.HasPrefix(imp, "internal/engine/") && !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s: the engine's packages import only those below them (docs/architecture.md, \"Layers\")", p, imp)
			}
		}
	}
}

// libraryOwners are the only product packages that may import each of
// these libraries: HTTP stays at the edges (the engine's front door and
// routes, the client, the commands), the command-line libraries in the
// commands and the engine settings, SQL in the store, SSH in execution.
var libraryOwners = map[string][]string{
	"net/http":                     {"internal/cli", "internal/engine", "internal/engine/api", "internal/engine/guard", "internal/engineclient"},
	"github.com/spf13/cobra":       {"internal/cli"},
	"github.com/spf13/pflag":       {"internal/cli", "internal/settings"},
	"github.com/spf13/viper":       {"internal/settings"},
	"database/sql":                 {"internal/engine/store"},
	"modernc.org/sqlite":           {"internal/engine/store"},
	"golang.org/x/crypto/ssh":      {"internal/engine/exec"},
	"github.com/go-resty/resty/v2": {"internal/engineclient"},
	"github.com/dave/jennifer/jen": {"internal/codegen"},
}

// HTTP, storage, execution and the command line each stay in their
// packages: a domain package (core, build, config, ...) imports none of
// their libraries.
func TestArchitectureLibrariesStayInTheirLayers(t *testing.T) {
	pkgs := packageImports(t)
	for p, imports := range pkgs {
		if strings.HasPrefix(p, "internal/engine/e2e/") || strings.HasPrefix(p, "third_party/") {
			continue
		}
		for _, imp := range imports {
			for lib, owners := range libraryOwners {
				if (imp == lib || strings.HasPrefix(imp, lib+"/")) && !slices.Contains(owners, p) {
					t.Errorf("%s imports %s, which only %s may", p, imp, strings.Join(owners, ", "))
				}
			}
		}
	}
	if !slices.Contains(pkgs["internal/engine/store"], "modernc.org/sqlite") {
		t.Error("internal/engine/store does not import modernc.org/sqlite: the walk is broken")
	}
}

// The SDK (sdk/, a module of its own) imports the standard library and
// its own packages only, so a plugin builds offline with nothing but Go.
func TestSDKImportsStandardLibraryOnly(t *testing.T) {
	checked := 0
	for p, imports := range packageImports(t) {
		if p != "sdk" && !strings.HasPrefix(p, "sdk/") {
			continue
		}
		checked++
		for _, imp := range imports {
			first, _, _ := strings.Cut(imp, "/")
			if strings.Contains(first, ".") && imp != module+"/sdk" && !strings.HasPrefix(imp, module+"/sdk/") {
				t.Errorf("%s imports %s: the SDK uses the standard library only", p, imp)
			}
		}
	}
	if checked < 6 {
		t.Fatalf("only %d SDK packages found: the walk is broken", checked)
	}
	gomod, err := os.ReadFile(filepath.Join("..", "sdk", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?m)^\s*require\b`).Match(gomod) {
		t.Errorf("sdk/go.mod requires a module: the SDK uses the standard library only")
	}
}

// maxLines is the most lines a hand-written non-test Go file may have:
// a longer one holds more than one concern. The PyYAML port
// (internal/pycompat/pyyaml) follows PyYAML's files, and the patched
// third-party module its own.
const maxLines = 800

// No hand-written non-test Go file is longer than maxLines.
func TestFilesAreShort(t *testing.T) {
	root := ".."
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || n == "third_party" || (strings.HasPrefix(n, ".") && path != root) || rel == "internal/pycompat/pyyaml" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if n := strings.Count(string(data), "\n"); n > maxLines {
			t.Errorf("%s has %d lines (at most %d): split it by concern", rel, n, maxLines)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 200 {
		t.Fatalf("only %d files read: the walk is broken", files)
	}
}
