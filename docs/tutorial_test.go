//go:build e2e

package docs_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/dvptest"
)

// runnable are the tutorial's commands that need no engine and no host:
// TestTutorialOffline runs them as written. The others (the engine, the
// environments, links...) run in make e2e (scripts/tutorial.sh), and
// TestDocumentedCommandsExist checks their commands and flags.
var goTest = regexp.MustCompile(`^\(cd src && go test `)

var runnable = regexp.MustCompile(`^(mkdir -p "\$TUTORIAL" && cd "\$TUTORIAL"|dvp (init|build|validate)( .*)?|\(cd src && go (test|vet) \./\.\.\.\)|rm [^;&|]+|sed -i [^;&|]+)$`)

// The tutorial's pages, followed as a reader does without an engine: every
// file and schema block written in order, and every command that needs no
// engine run with a dvp built from this tree on PATH — dvp init, each
// page's dvp build, and the last go test of the plugin's unit tests. What the pages
// say those commands do is checked: the files dvp init writes, the
// warnings of dvp build. After page 4 the plugin is the seed plugin of
// testdata/plugins/seed-rsync (its schema, its functions), and page 6's
// dvptest.yml is a valid spec.
func TestTutorialOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests the tutorial's plugin at every page")
	}
	goEnv := goCommandEnv(t)
	bin := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(bin, "dvp")); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	home := filepath.Join(work, "home")
	proj := filepath.Join(home, "dvp-tutorial")
	if err := os.MkdirAll(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		"TUTORIAL=" + proj,
		"GOPROXY=off", // the pages say the plugin builds offline
		"GOFLAGS=",
		"GOTOOLCHAIN=local",
	}
	env = append(env, goEnv...)

	pages, _ := filepath.Glob(filepath.Join("tutorial", "[0-9]-*.md"))
	sort.Strings(pages)
	if len(pages) < 6 {
		t.Fatalf("tutorial pages: %v", pages)
	}
	// The plugin's unit tests run once, where the tutorial runs them last
	// (page 5: its tests and page 3's). Page 1's are the scaffold's
	// (internal/scaffold tests them); make e2e runs every one
	// (scripts/tutorial.sh).
	lastGoTest := ""
	for _, page := range pages {
		for _, b := range readBlocks(t, page) {
			for _, line := range shellLines(b.body) {
				if b.lang == "sh" && goTest.MatchString(line) {
					lastGoTest = b.String()
				}
			}
		}
	}
	ran := 0
	for _, page := range pages {
		for _, b := range readBlocks(t, page) {
			switch {
			case b.file != "":
				writeFile(t, filepath.Join(proj, filepath.FromSlash(b.file)), b.body)
			case b.merge != "":
				mergeJSON(t, b, filepath.Join(proj, filepath.FromSlash(b.merge)))
			case b.lang == "sh" && !b.settings:
				for _, line := range shellLines(b.body) {
					if !runnable.MatchString(line) || (goTest.MatchString(line) && b.String() != lastGoTest) {
						continue
					}
					ran++
					out := runShell(t, b, proj, env, line)
					checkSays(t, b, line, out)
				}
			}
		}
		switch filepath.Base(page) {
		case "1-setup.md":
			checkInitListing(t, page, proj)
		case "4-provisioning.md":
			checkIsTheSeed(t, proj)
			addReferenceTests(t, proj)
		case "6-testing.md":
			checkSpec(t, proj)
		}
	}
	if ran < 8 {
		t.Errorf("ran only %d commands of the tutorial: did its pages or the pattern of runnable commands change?", ran)
	}
}

// goCommandEnv returns the go command's caches as this test's go sees them,
// to keep them when HOME changes.
func goCommandEnv(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	var env []string
	for i, v := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		env = append(env, []string{"GOCACHE=", "GOMODCACHE=", "GOPATH="}[i]+v)
	}
	return env
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mergeJSON puts the top-level members of the block into the JSON object
// of path, replacing those of the same name.
func mergeJSON(t *testing.T, b block, path string) {
	t.Helper()
	doc := map[string]json.RawMessage{}
	add := map[string]json.RawMessage{}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %s: %v", b, path, err)
	}
	if err := json.Unmarshal([]byte(b.body), &add); err != nil {
		t.Fatalf("%s: the block is not a JSON object: %v", b, err)
	}
	for k, v := range add {
		doc[k] = v
	}
	out, _ := json.MarshalIndent(doc, "", "    ")
	writeFile(t, path, string(out)+"\n")
}

func runShell(t *testing.T, b block, dir string, env []string, line string) string {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", line)
	cmd.Dir = dir
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s: %s (%v)", b, line, time.Since(start))
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", b, line, err, out)
	}
	return string(out)
}

// checkSays checks what a page says of a command's output.
func checkSays(t *testing.T, b block, line, out string) {
	t.Helper()
	if line != "dvp build" {
		return
	}
	switch filepath.Base(b.page) {
	case "2-discovery.md":
		// "dvp build now warns that required operations (the linked and
		// virtual ones) are missing"
		for _, op := range []string{"linked.mount_specification", "linked.post_snapshot", "virtual.configure"} {
			if !strings.Contains(out, "warning: Implementation missing for required method "+op+"()") {
				t.Errorf("%s: dvp build does not warn that %s is missing:\n%s", b, op, out)
			}
		}
	case "4-provisioning.md", "5-upgrade.md":
		// "The plugin now implements every required operation: dvp build
		// has no warning left."
		if strings.Contains(strings.ToLower(out), "warning") {
			t.Errorf("%s: dvp build warns:\n%s", b, out)
		}
	}
	if !strings.Contains(out, "BUILD SUCCESSFUL") {
		t.Errorf("%s: dvp build did not say BUILD SUCCESSFUL:\n%s", b, out)
	}
}

// checkInitListing: the list of what dvp init wrote (the text block after
// "dvp init wrote") is what it wrote, at the project's top level and in src/.
func checkInitListing(t *testing.T, page, proj string) {
	t.Helper()
	var listed []string
	for _, b := range readBlocks(t, page) {
		if b.lang != "text" {
			continue
		}
		for _, line := range strings.Split(b.body, "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				listed = append(listed, strings.TrimSuffix(f[0], "/"))
			}
		}
	}
	sort.Strings(listed)
	// What dvp init wrote, before anything else: the top level and src/,
	// and .dvp/sdk (.dvp/build is dvp build's).
	var wrote []string
	for _, dir := range []string{".", "src"} {
		entries, err := os.ReadDir(filepath.Join(proj, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := filepath.ToSlash(filepath.Join(dir, e.Name()))
			switch name {
			case "src", "artifact.json", ".dvp":
				continue
			}
			wrote = append(wrote, name)
		}
	}
	wrote = append(wrote, ".dvp/sdk")
	sort.Strings(wrote)
	if !reflect.DeepEqual(listed, wrote) {
		t.Errorf("%s lists what dvp init wrote as\n  %v\nit wrote\n  %v", page, listed, wrote)
	}
}

// checkIsTheSeed: after page 4 the project is the seed plugin — the same
// schema.json and the same functions and plugin value (comments aside).
func checkIsTheSeed(t *testing.T, proj string) {
	t.Helper()
	seed := filepath.Join("..", "testdata", "plugins", "seed-rsync")
	var got, want any
	for _, f := range []struct {
		path string
		v    *any
	}{{filepath.Join(proj, "schema.json"), &got}, {filepath.Join(seed, "schema.json"), &want}} {
		data, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, f.v); err != nil {
			t.Fatalf("%s: %v", f.path, err)
		}
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("the tutorial's schema.json after page 4 is not the seed's:\n%s\nseed:\n%s", g, w)
	}
	gotDecls := goDecls(t, filepath.Join(proj, "src"))
	wantDecls := goDecls(t, filepath.Join(seed, "src"))
	for name, w := range wantDecls {
		if g, ok := gotDecls[name]; !ok {
			t.Errorf("the seed's %s is not in the tutorial after page 4", name)
		} else if g != w {
			t.Errorf("the tutorial's %s after page 4 differs from the seed's:\n%s\nseed:\n%s", name, g, w)
		}
	}
	for name := range gotDecls {
		if _, ok := wantDecls[name]; !ok {
			t.Errorf("the tutorial's %s (after page 4) is not in the seed plugin", name)
		}
	}
}

// addReferenceTests puts the unit test of docs/sdk.md (section 6), written
// for this plugin, beside the plugin's own tests: page 5's go test compiles
// and runs it.
func addReferenceTests(t *testing.T, proj string) {
	t.Helper()
	var tests []string
	for _, b := range goBlocks(t, "sdk.md") {
		if strings.Contains(b.body, "func Test") {
			// The tutorial has tests of the same names.
			tests = append(tests, strings.ReplaceAll(b.body, "func Test", "func TestSDKReference"))
		}
	}
	if len(tests) == 0 {
		t.Fatal("docs/sdk.md has no unit test example any more")
	}
	const header = `package main

import (
	"testing"

	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/plugintest"

	"my-first-plugin/generated"
)

`
	writeFile(t, filepath.Join(proj, "src", "sdk_reference_test.go"), header+strings.Join(tests, "\n"))
	addReferenceMigrations(t, proj)
}

// addReferenceMigrations puts the migrations of docs/sdk.md (section 2,
// "Data migrations": a Plugin.Upgrade entry and its function) into this
// plugin, as a test file: page 5's go test compiles it, and the test it
// adds checks them with the runtime's registration rules.
func addReferenceMigrations(t *testing.T, proj string) {
	t.Helper()
	var block string
	for _, b := range goBlocks(t, "sdk.md") {
		if strings.Contains(b.body, "Upgrade: []generated.Migration{") {
			block = b.body
		}
	}
	fields, funcs, ok := strings.Cut(block, "\n\nfunc ")
	if !ok {
		t.Fatal("docs/sdk.md has no data migration example (Upgrade: []generated.Migration{...} and its function) any more")
	}
	src := `package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dvpkit/dvp/sdk"

	"my-first-plugin/generated"
)

var sdkReferenceUpgrade = generated.Plugin{
` + fields + `
}

func ` + funcs + `
`
	if !strings.Contains(funcs, "func fromLua(") {
		src += `
// fromLua stands for the Lua migration docs/sdk.md registers.
func fromLua(ctx context.Context, old map[string]any) (map[string]any, error) { return old, nil }
`
	}
	src += `
var _ = json.Number("") // the example's functions use encoding/json

func TestSDKReferenceMigrations(t *testing.T) {
	if problems := sdkReferenceUpgrade.Runtime().Problems(); len(problems) > 0 {
		t.Fatalf("docs/sdk.md's migrations: %v", problems)
	}
	_ = sdk.LuaMigration
}
`
	writeFile(t, filepath.Join(proj, "src", "sdk_reference_migrations_test.go"), src)
}

// checkSpec: page 6's dvptest.yml is a spec dvp test accepts.
func checkSpec(t *testing.T, proj string) {
	t.Helper()
	vars := map[string]string{
		"SOURCE_HOST": "127.0.0.1", "SOURCE_PORT": "22", "SOURCE_USER": "delphix", "SOURCE_ADDRESS": "127.0.0.1",
		"SSH_KEY": "/home/delphix/.ssh/id_ed25519", "KNOWN_HOSTS": "/home/delphix/.ssh/known_hosts",
		"DVPTEST_TMP": "/tmp/dvptest-run", // dvp test sets it
	}
	lookup := func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
	if _, err := dvptest.Load(filepath.Join(proj, "dvptest.yml"), lookup); err != nil {
		t.Errorf("page 6's dvptest.yml: %v", err)
	}
}
