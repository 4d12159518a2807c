package scaffold

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	dvp "github.com/dvpkit/dvp"
	"github.com/dvpkit/dvp/internal/config"
	"github.com/dvpkit/dvp/internal/project"
	"github.com/dvpkit/dvp/internal/sdkcopy"
	"github.com/dvpkit/dvp/sdk/protocol"
	"gopkg.in/yaml.v3"
)

const testID = "0f0e3c8b-7d7e-4c36-9d7b-8f2b5b5c0a11"

func TestPluginConfigExact(t *testing.T) {
	got := string(PluginConfig(testID, "My Plugin", protocol.PluginTypeStaged, Windows))
	want := `id: 0f0e3c8b-7d7e-4c36-9d7b-8f2b5b5c0a11
name: My Plugin
language: GO
hostTypes:
- WINDOWS
pluginType: STAGED
entryPoint: plugin_runner:plugin
srcDir: src
schemaFile: schema.json
buildNumber: 0.1.0
`
	if got != want {
		t.Fatalf("plugin_config.yml:\n%s\nwant:\n%s", got, want)
	}
}

// Names that YAML would read as something else are quoted, and read back.
func TestPluginConfigNamesRoundTrip(t *testing.T) {
	for _, n := range []string{"My Plugin", "yes", "on", "NO", "Off", "y", "1_000", "0.1.0", "1e3", "a: b", "- x", "#x", "x #y",
		"null", "~", "'q'", `"dq"`, "multi\nline", "tab\there", "ünï", "0x1F", "2019-01-01", "@at", "`bt", "%p", "!tag",
		"&a", "*a", "{a}", "[a]", "  lead", "trail  ", "12:30", "0o17", ".inf", "<<", "=", "a\u2028b", "1e+3", "+.5", "0b101", "0x_1"} {
		// YAML 1.2 (yaml.v3) reads it back as the same string too.
		var v12 map[string]any
		if err := yaml.Unmarshal(PluginConfig(testID, n, protocol.PluginTypeDirect, Unix), &v12); err != nil || v12["name"] != n {
			t.Errorf("name %q: a YAML 1.2 reader gets %#v (%v)", n, v12["name"], err)
		}
		c, _ := config.Parse("plugin_config.yml", PluginConfig(testID, n, protocol.PluginTypeDirect, Unix))
		if c == nil || c.Name != n {
			got := "<nil config>"
			if c != nil {
				got = c.Name
			}
			t.Errorf("name %q read back as %q from\n%s", n, got, PluginConfig(testID, n, protocol.PluginTypeDirect, Unix))
		}
	}
}

// The name line is the one PyYAML 6 writes (yaml.dump, block style) for
// names YAML would read as something else; the few where we differ on
// purpose (docs/compatibility.md, "init") are in TestPluginConfigNamesRoundTrip.
func TestPluginConfigNameAsPyYAMLWrites(t *testing.T) {
	for _, c := range []struct{ name, line string }{
		{`true`, `name: 'true'`},
		{`null`, `name: 'null'`},
		{`0x1f`, `name: '0x1f'`},
		{`~`, `name: '~'`},
		{`yes`, `name: 'yes'`},
		{`007`, `name: '007'`},
		{`a: b`, `name: 'a: b'`},
		{`#x`, `name: '#x'`},
		{`a #b`, `name: 'a #b'`},
		{`no`, `name: 'no'`},
		{`on`, `name: 'on'`},
		{`off`, `name: 'off'`},
		{`y`, `name: y`},
		{`n`, `name: n`},
		{`1.5`, `name: '1.5'`},
		{`- x`, `name: '- x'`},
		{`[a]`, `name: '[a]'`},
		{`{a}`, `name: '{a}'`},
		{`*x`, `name: '*x'`},
		{`&x`, `name: '&x'`},
		{`!x`, `name: '!x'`},
		{`%x`, `name: '%x'`},
		{`@x`, `name: '@x'`},
		{"`x", "name: '`x'"},
		{`"q`, `name: '"q'`},
		{`'q`, `name: '''q'`},
		{`1_000`, `name: '1_000'`},
		{`.inf`, `name: '.inf'`},
		{`.NaN`, `name: '.NaN'`},
		{`1:20`, `name: '1:20'`},
		{`2001-12-14`, `name: '2001-12-14'`},
		{`=`, `name: '='`},
		{`<<`, `name: '<<'`},
		{`NULL`, `name: 'NULL'`},
		{`True`, `name: 'True'`},
		{` lead`, `name: ' lead'`},
		{`trail `, `name: 'trail '`},
		{"tab\tx", `name: "tab\tx"`},
		{`0b101`, `name: '0b101'`},
		{`+1`, `name: '+1'`},
		{`-1`, `name: '-1'`},
		{`12:30:45`, `name: '12:30:45'`},
		{`1e`, `name: 1e`},
		{`0.`, `name: '0.'`},
		{`My Plugin`, `name: My Plugin`},
		{`a,b`, `name: a,b`},
		{`a?`, `name: a?`},
		{`? a`, `name: '? a'`},
		{`: a`, `name: ': a'`},
		{`a:b`, `name: a:b`},
		{`1.0.0`, `name: 1.0.0`},
		{`0.1`, `name: '0.1'`},
		{`---`, `name: '---'`},
		{`-`, `name: '-'`},
		{`?`, `name: '?'`},
		{`:`, `name: ':'`},
		{`Y`, `name: Y`},
		{`.5`, `name: '.5'`},
		{`190:20:30`, `name: '190:20:30'`},
	} {
		got := strings.SplitN(string(PluginConfig(testID, c.name, protocol.PluginTypeDirect, Unix)), "\n", 3)[1]
		if got != c.line {
			t.Errorf("name %q: wrote %s, PyYAML writes %s", c.name, got, c.line)
		}
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"My Plugin":              "my-plugin",
		testID:                   "plugin-0f0e3c8b-7d7e-4c36-9d7b-8f2b5b5c0a11",
		"":                       "plugin",
		"!!!":                    "plugin",
		"std":                    "plugin-std",
		"Postgres_14 (beta)":     "postgres-14-beta",
		"ünï code":               "n-code",
		"a/b..c":                 "a-b-c",
		strings.Repeat("x", 100): strings.Repeat("x", 64),
		"-lead":                  "lead",
	} {
		if got := ModuleName(in); got != want {
			t.Errorf("ModuleName(%q) = %q, want %q", in, got, want)
		}
	}
}

func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out
}

func TestInitLayout(t *testing.T) {
	root := t.TempDir()
	res, err := Init(Options{Root: root, PluginType: protocol.PluginTypeStaged, HostType: Unix, ID: testID})
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != testID || res.Module != ModuleName(testID) {
		t.Fatalf("result %+v", res)
	}
	schema, _ := fs.ReadFile(dvp.Templates, "templates/schema.json")
	got, _ := os.ReadFile(filepath.Join(root, SchemaFile))
	if string(got) != string(schema) {
		t.Fatalf("schema.json differs from the template")
	}
	tree := listTree(t, root)
	for _, want := range []string{
		"plugin_config.yml", "schema.json", "src/go.mod", "src/plugin_runner.go", "src/plugin_runner_test.go", ".gitignore",
		"src/generated/doc.go", "src/generated/operations.go", "src/generated/repository_definition.go",
		".dvp/sdk/go.mod", ".dvp/sdk/VERSION", ".dvp/sdk/runtime/runtime.go", ".dvp/sdk/libs/libs.go",
	} {
		if !slices.Contains(tree, want) {
			t.Errorf("missing %s in %v", want, tree)
		}
	}
	for _, p := range tree {
		// The example test of the operations is the only test file: the
		// SDK copy has none.
		if strings.HasSuffix(p, "_test.go") && p != "src/"+TestFile || strings.Contains(p, "testdata") || strings.HasPrefix(p, ".dvp-init-") {
			t.Errorf("unexpected %s", p)
		}
	}
	ignore, _ := os.ReadFile(filepath.Join(root, IgnoreFile))
	for _, want := range []string{"\n/artifact.json\n", "\n/.dvp/\n", "\n/src/generated/\n"} {
		if !strings.Contains(string(ignore), want) {
			t.Errorf(".gitignore lacks %q:\n%s", want, ignore)
		}
	}
	gomod, _ := os.ReadFile(filepath.Join(root, "src", "go.mod"))
	for _, want := range []string{"module " + res.Module + "\n", "require github.com/dvpkit/dvp/sdk v0.0.0-dvp\n", "replace github.com/dvpkit/dvp/sdk => ../.dvp/sdk\n"} {
		if !strings.Contains(string(gomod), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, gomod)
		}
	}
	if ok, err := sdkcopy.UpToDate(filepath.Join(root, ".dvp", "sdk")); !ok || err != nil {
		t.Fatalf("SDK copy not up to date: %v", err)
	}
	// The project is valid for dvp validate.
	p := project.Load(filepath.Join(root, ConfigFile))
	if !p.Valid() || len(p.Problems) > 0 {
		t.Fatalf("problems: %v", p.Problems)
	}
}

func TestInitRefusesExisting(t *testing.T) {
	for _, target := range Targets {
		t.Run(filepath.ToSlash(target), func(t *testing.T) {
			root := t.TempDir()
			p := filepath.Join(root, target)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte("mine"), 0o644); err != nil {
				t.Fatal(err)
			}
			before := listTree(t, root)
			_, err := Init(Options{Root: root, PluginType: protocol.PluginTypeDirect, HostType: Unix})
			var ee *ExistsError
			if !errors.As(err, &ee) || ee.Path != p || err.Error() != "The path '"+p+"' already exists." {
				t.Fatalf("got %v", err)
			}
			if after := listTree(t, root); !slices.Equal(before, after) {
				t.Fatalf("tree changed: %v -> %v", before, after)
			}
		})
	}
	// dvp 5.0.1's order (Targets): plugin_config.yml is reported before src.
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "src"), 0o755)
	os.WriteFile(filepath.Join(root, ConfigFile), nil, 0o644)
	_, err := Init(Options{Root: root, PluginType: protocol.PluginTypeDirect, HostType: Unix})
	if err == nil || !strings.Contains(err.Error(), ConfigFile) {
		t.Fatalf("got %v", err)
	}
}

// A .gitignore the user has is left as it is; it does not stop init.
func TestInitKeepsUsersGitignore(t *testing.T) {
	root := t.TempDir()
	mine := filepath.Join(root, IgnoreFile)
	if err := os.WriteFile(mine, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Init(Options{Root: root, PluginType: protocol.PluginTypeDirect, HostType: Unix})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(mine); string(got) != "mine\n" {
		t.Errorf(".gitignore is now %q", got)
	}
	if slices.Contains(res.Paths, mine) {
		t.Errorf("Paths %v claims the user's .gitignore", res.Paths)
	}
}

func TestInitRollsBack(t *testing.T) {
	for _, failAt := range []string{".dvp/sdk", "src", SchemaFile, IgnoreFile, ConfigFile} {
		t.Run(failAt, func(t *testing.T) {
			root := t.TempDir()
			os.WriteFile(filepath.Join(root, "README"), []byte("x"), 0o644)
			before := listTree(t, root)
			rename = func(from, to string) error {
				if filepath.ToSlash(to) == filepath.ToSlash(filepath.Join(root, failAt)) {
					return errors.New("disk full")
				}
				return os.Rename(from, to)
			}
			defer func() { rename = os.Rename }()
			_, err := Init(Options{Root: root, PluginType: protocol.PluginTypeStaged, HostType: Unix})
			var ie *InitError
			if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), "Failed to initialize plugin directory "+root+": ") {
				t.Fatalf("got %v", err)
			}
			if after := listTree(t, root); !slices.Equal(before, after) {
				t.Fatalf("left behind: %v -> %v", before, after)
			}
		})
	}
}

// goEnv is an offline Go environment with an empty module cache. The build
// cache is the user's: the tests build with -trimpath, so that the temporary
// directories stay out of its keys and a second run finds the packages.
func goEnv(t *testing.T) []string {
	t.Helper()
	return append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local",
		"GOMODCACHE="+t.TempDir(), "CGO_ENABLED=0", "GONOSUMDB=", "GONOSUMCHECK=", "GOSUMDB=off")
}

func goCmd(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestScaffoldsBuildOffline: the four scaffolds pass go vet offline; two of
// them (one of each plugin type and of each host type) are linked, pass
// their example test and run their operations through pluginhost in make
// test, all four in make e2e (the e2e build tag). internal/build's
// TestScaffoldsAndSeed links the other two with dvp build and checks their
// manifests.
func TestScaffoldsBuildOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles four plugins")
	}
	for _, pt := range []string{protocol.PluginTypeDirect, protocol.PluginTypeStaged} {
		for _, ht := range []string{Unix, Windows} {
			linked := e2eTests || (pt == protocol.PluginTypeStaged) == (ht == Windows)
			t.Run(pt+"-"+ht, func(t *testing.T) {
				t.Parallel() // each in its own directories
				root := t.TempDir()
				res, err := Init(Options{Root: root, Name: "Test " + pt + " " + ht, PluginType: pt, HostType: ht})
				if err != nil {
					t.Fatal(err)
				}
				p := project.Load(filepath.Join(root, ConfigFile))
				if !p.Valid() {
					t.Fatalf("invalid project: %v", p.Problems)
				}
				if p.Config.PluginType != pt || p.Config.Name != res.Name {
					t.Fatalf("config %+v", p.Config)
				}
				src := filepath.Join(root, SrcDir)
				env := goEnv(t)
				if out, err := goCmd(t, src, env, "vet", "-trimpath", "./..."); err != nil {
					t.Fatalf("go vet: %v\n%s", err, out)
				}
				if _, err := os.Stat(filepath.Join(src, "go.sum")); err == nil {
					t.Errorf("go vet wrote a go.sum")
				}
				if !linked {
					return // DIRECT WINDOWS and STAGED UNIX: make e2e
				}
				// One go build compiles every package of the project and
				// writes the plugin's executable (its main package, the
				// module's root) into binDir, named after the module.
				binDir := t.TempDir()
				if out, err := goCmd(t, src, env, "build", "-trimpath", "-o", binDir+string(os.PathSeparator), "./..."); err != nil {
					t.Fatalf("go build ./...: %v\n%s", err, out)
				}
				bin := filepath.Join(binDir, path.Base(res.Module))
				if _, err := os.Stat(bin); err != nil {
					entries, _ := os.ReadDir(binDir)
					t.Fatalf("go build ./... wrote no executable for the module %s (%v): %v", res.Module, err, entries)
				}
				// The example test passes right after init, offline.
				if out, err := goCmd(t, src, env, "test", "-trimpath", "-count=1", "./..."); err != nil || !strings.Contains(out, "ok  \t"+res.Module) {
					t.Fatalf("go test: %v\n%s", err, out)
				}
				// go.mod and go.sum are left alone by the build.
				if _, err := os.Stat(filepath.Join(src, "go.sum")); err == nil {
					t.Errorf("the build wrote a go.sum")
				}
				checkManifest(t, bin, pt)
				checkMounts(t, bin, pt, ht)
			})
		}
	}
}

func TestEmbeddedSDKMatchesRepository(t *testing.T) {
	files, _, err := sdkcopy.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		disk, err := os.ReadFile(filepath.Join("..", "..", "sdk", filepath.FromSlash(f.Path)))
		if err != nil || string(disk) != string(f.Data) {
			t.Errorf("%s differs from sdk/ (%v)", f.Path, err)
		}
	}
	_ = runtime.GOOS
}

// In a new project, offline, go doc shows the SDK's documentation: the
// fields of libs.RunResult (not an alias of another package's type).
func TestGoDocInProject(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go doc")
	}
	root := t.TempDir()
	if _, err := Init(Options{Root: root, Name: "doc", PluginType: protocol.PluginTypeStaged, HostType: Unix}); err != nil {
		t.Fatal(err)
	}
	out, err := goCmd(t, filepath.Join(root, SrcDir), goEnv(t), "doc", "github.com/dvpkit/dvp/sdk/libs", "RunResult")
	if err != nil {
		t.Fatalf("go doc: %v\n%s", err, out)
	}
	for _, want := range []string{"type RunResult struct {", "ExitCode int", "Stdout string", "Stderr string"} {
		if !strings.Contains(out, want) {
			t.Errorf("go doc output lacks %q:\n%s", want, out)
		}
	}
}
