package docs_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
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
			if p == module {
				pkgs[rel] = append(pkgs[rel], ".")
			} else if strings.HasPrefix(p, module+"/") {
				pkgs[rel] = append(pkgs[rel], strings.TrimPrefix(p, module+"/"))
			}
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
			if strings.HasPrefix(p, "internal/pycompat") && !strings.HasPrefix(imp, "internal/pycompat") && imp != "internal/jsonpointer" {
				t.Errorf("%s (the Python-parity quarantine) imports %s", p, imp)
			}
		}
	}
}
