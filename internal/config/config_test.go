package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/jsonschemamsg/msgtest"
)

const validConfig = `id: 3cb6a5a8-7c0b-4e22-9b5a-2f0c4d8e1a7b
name: my plugin
language: GO
hostTypes:
- UNIX
pluginType: STAGED
entryPoint: plugin_runner:plugin
srcDir: src
schemaFile: schema.json
buildNumber: 0.1.0
`

// project writes a plugin root with the given config and returns the
// config's path.
func project(t testing.TB, config string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "schema.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "plugin_config.yml")
	if err := os.WriteFile(p, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadValidFillsConfig(t *testing.T) {
	p := project(t, validConfig)
	cfg, probs := Load(p)
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	root := filepath.Dir(p)
	checks := []struct{ name, got, want string }{
		{"Path", cfg.Path, p},
		{"Dir", cfg.Dir, root},
		{"ID", cfg.ID, "3cb6a5a8-7c0b-4e22-9b5a-2f0c4d8e1a7b"},
		{"Name", cfg.Name, "my plugin"},
		{"Language", cfg.Language, "GO"},
		{"PluginType", cfg.PluginType, "STAGED"},
		{"EntryPoint", cfg.EntryPoint, "plugin_runner:plugin"},
		{"EntryModule", cfg.EntryModule(), "plugin_runner"},
		{"EntrySymbol", cfg.EntrySymbol(), "plugin"},
		{"SrcDir", cfg.SrcDir, "src"},
		{"SrcPath", cfg.SrcPath, filepath.Join(root, "src")},
		{"SchemaFile", cfg.SchemaFile, "schema.json"},
		{"SchemaPath", cfg.SchemaPath, filepath.Join(root, "schema.json")},
		{"BuildNumber", cfg.BuildNumber, "0.1.0"},
		{"NormalizedBuildNumber", cfg.NormalizedBuildNumber(), "0.1"},
		{"DefaultLocale", cfg.DefaultLocale, "en-us"},
		{"HostTypes", strings.Join(cfg.HostTypes, ","), "UNIX"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !cfg.ManualDiscovery || !cfg.RootSquashEnabled || cfg.ExtendedStartStopHooks {
		t.Errorf("defaults: manualDiscovery=%v rootSquash=%v hooks=%v, want true true false",
			cfg.ManualDiscovery, cfg.RootSquashEnabled, cfg.ExtendedStartStopHooks)
	}
	if l, c := cfg.Position("buildNumber"); l != 10 || c != 14 {
		t.Errorf("Position(buildNumber) = %d:%d, want 10:14", l, c)
	}
	if l, c := cfg.Position("hostTypes"); l != 5 || c != 1 {
		t.Errorf("Position(hostTypes) = %d:%d, want 5:1", l, c)
	}
	if l, c := cfg.KeyPosition("hostTypes"); l != 4 || c != 1 {
		t.Errorf("KeyPosition(hostTypes) = %d:%d, want 4:1", l, c)
	}
	if l, c := cfg.Position("luaName"); l != 0 || c != 0 {
		t.Errorf("Position(absent) = %d:%d, want 0:0", l, c)
	}
	if !cfg.Present["buildNumber"] || cfg.Present["luaName"] {
		t.Errorf("Present = %v", cfg.Present)
	}
}

func TestOptionalKeysOverrideDefaults(t *testing.T) {
	p := project(t, validConfig+"manualDiscovery: no\nrootSquashEnabled: off\nextendedStartStopHooks: yes\ndefaultLocale: de-de\nexternalVersion: 2.0.1\nluaName: lua\nminimumLuaVersion: '1.2'\n")
	cfg, probs := Load(p)
	if probs.HasErrors() {
		t.Fatalf("problems: %v", probs)
	}
	if cfg.ManualDiscovery || cfg.RootSquashEnabled || !cfg.ExtendedStartStopHooks || cfg.DefaultLocale != "de-de" ||
		cfg.ExternalVersion != "2.0.1" || cfg.LuaName != "lua" || cfg.MinimumLuaVersion != "1.2" {
		t.Errorf("got %+v", cfg)
	}
}

// Warning-mode callers get every value that had the right type.
func TestWrongValuesKeepTheRest(t *testing.T) {
	cfg, probs := Parse(project(t, strings.Replace(validConfig, "name: my plugin", "name: [a]", 1)+"manualDiscovery: 'no'\n"), []byte(strings.Replace(validConfig, "name: my plugin", "name: [a]", 1)+"manualDiscovery: 'no'\n"))
	if cfg == nil || !probs.HasErrors() {
		t.Fatalf("cfg=%v problems=%v", cfg, probs)
	}
	if cfg.Name != "" || cfg.ID == "" || cfg.BuildNumber != "0.1.0" || !cfg.ManualDiscovery {
		t.Errorf("got %+v", cfg)
	}
}

func TestNormalizeBuildNumber(t *testing.T) {
	// dvp 5.0.1's examples (docs/compatibility.md, Build numbers)
	for in, want := range map[string]string{
		"0.0.1":    "0.0.1",
		"0.1.0":    "0.1",
		"1.0.01.0": "1.0.1",
		"2.0.0":    "2",
		"5.3.0.0":  "5.3",
		"02.5000":  "2.5000",
		"7.2.12":   "7.2.12",
		"1":        "1",
		"1.100":    "1.100",
		"1.0\n":    "1",
		"0.0.0":    "0.0.0", // invalid: returned unchanged
		"x.1":      "x.1",
		"":         "",
	} {
		if got := NormalizeBuildNumber(in); got != want {
			t.Errorf("NormalizeBuildNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEntryPointSplit(t *testing.T) {
	for ep, want := range map[string][2]string{
		"a:b":   {"a", "b"},
		"a.b:c": {"a.b", "c"},
		"a:b:c": {"a", "b"},
		"a":     {"a", ""},
	} {
		c := &Config{EntryPoint: ep}
		if c.EntryModule() != want[0] || c.EntrySymbol() != want[1] {
			t.Errorf("%q -> %q %q, want %q", ep, c.EntryModule(), c.EntrySymbol(), want)
		}
	}
}

func TestLoadUnreadable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.yml")
	cfg, probs := Load(p)
	if cfg != nil || len(probs) != 1 || probs[0].File != p ||
		!strings.Contains(probs[0].Message, "Unable to read plugin config file '"+p+"'") ||
		!strings.Contains(probs[0].Message, "Error code: 2. Error message: No such file or directory") {
		t.Fatalf("cfg=%v probs=%v", cfg, probs)
	}
	cfg, probs = Load(t.TempDir())
	if cfg != nil || len(probs) != 1 || !strings.Contains(probs[0].Message, "is a directory") {
		t.Fatalf("directory: cfg=%v probs=%v", cfg, probs)
	}
}

// Parse resolves paths against filepath.Dir(path), whatever the cwd.
func TestParseRelativePath(t *testing.T) {
	p := project(t, validConfig)
	dir := filepath.Dir(p)
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
	if err := os.Chdir(filepath.Dir(dir)); err != nil {
		t.Fatal(err)
	}
	rel := filepath.Join(filepath.Base(dir), "plugin_config.yml")
	cfg, probs := Load(rel)
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	if cfg.Path != rel || cfg.Dir != dir || cfg.SrcPath != filepath.Join(dir, "src") {
		t.Errorf("Path=%q Dir=%q SrcPath=%q", cfg.Path, cfg.Dir, cfg.SrcPath)
	}
}

func TestStrictlyInside(t *testing.T) {
	for _, c := range []struct {
		root, p string
		want    bool
	}{
		{"/a/b", "/a/b/c", true},
		{"/a/b", "/a/b", false},
		{"/a/b", "/a/bc", false},
		{"/a/b", "/a", false},
		{"/a/b", "/a/b/..c", true},
		{"/", "/x", true},
	} {
		if got := strictlyInside(filepath.FromSlash(c.root), filepath.FromSlash(c.p)); got != c.want {
			t.Errorf("strictlyInside(%q, %q) = %v", c.root, c.p, got)
		}
	}
}

// hostile inputs: each must give a clean error problem quickly.
func TestHostileInputs(t *testing.T) {
	nested := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	nestedBlock := &strings.Builder{}
	for i := 0; i < 1200; i++ { // 1200 levels of indentation still fit in 1 MiB
		nestedBlock.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	laughs := &strings.Builder{}
	laughs.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(laughs, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	big := bytes.Repeat([]byte("# padding comment line\n"), (10<<20)/23+1)
	bigValid := append([]byte(validConfig), bytes.Repeat([]byte("#\n"), (900<<10)/2)...)
	cases := []struct {
		name, data, want string
	}{
		{"empty", "", "is empty"},
		{"non-utf8", "name: \xff\xfe bad\n", "not readable YAML text"},
		{"binary", "\x00\x01\x02\x03\x89PNG\r\n\x1a\n", "not readable YAML text"},
		{"10MB", string(big), "larger than 1048576 bytes"},
		{"nested-flow-10k", "a: " + nested + "\n", "nested more than 1000 levels deep"},
		{"nested-block-1200", nestedBlock.String(), "nested more than 1000 levels deep"},
		{"billion-laughs", laughs.String(), "alias bomb"},
		{"self-alias", "a: &a [*a]\n", "recursive alias"},
		{"tabs", "id: x\n\tname: y\n", "found character '\\t' that cannot start any token"},
		{"bom-only", "\ufeff", "is empty"},
		{"utf16-odd", "\xff\xfea", "not readable YAML text"},
		{"long-line", "name: " + strings.Repeat("x", 900<<10) + "\n", "'id' is a required property"},
		{"many-keys", strings.Repeat("k: v\n", 100000), "Additional properties are not allowed ('k' was unexpected)"},
		{"huge-int", "buildNumber: " + strings.Repeat("9", 5000) + "\n", "integer with more than 4300 digits"},
		{"huge-float", "buildNumber: 1" + strings.Repeat("0", 5000) + ".5e+99999\n", "inf is not of type 'string'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Bound the work, not the time: parsing a hostile file
			// allocates at most 1 KiB per byte it reads (the many-keys
			// case needs about 500), plus 16 MiB.
			probs := msgtest.ParseBounded(t, []byte(c.data), MaxFileSize, func(data []byte) diag.List {
				_, probs := Parse("plugin_config.yml", data)
				return probs
			})
			found := false
			for _, p := range probs {
				if p.Severity == diag.Error && strings.Contains(p.Message, c.want) {
					found = true
				}
				if p.File != "plugin_config.yml" {
					t.Errorf("problem without the file name: %v", p)
				}
			}
			if !found {
				t.Errorf("no error containing %q in:\n%s", c.want, msgtest.Dump(probs))
			}
			if len(probs) > 50 {
				t.Errorf("%d problems: not a clean report", len(probs))
			}
		})
	}
	t.Run("just-under-the-cap", func(t *testing.T) {
		cfg, probs := Parse(project(t, validConfig), bigValid)
		if cfg == nil || probs.HasErrors() {
			t.Errorf("a valid 900 KiB config was refused: %v", probs)
		}
	})
}

func FuzzConfigParse(f *testing.F) {
	seeds := []string{
		validConfig,
		"",
		"a: [1, {b: c}]\n",
		"<<: {id: x}\nname: &n yes\nother: *n\n",
		"random: yaml\n\nNOT YAML",
		"a: 'x\n",
		"a: |\n  text\n",
		"- a\n- b\n",
		"%YAML 1.1\n---\na: !!int '12'\n",
		"a: &a [*a]\n",
		"\ufeffid: 1\n",
		"{1: a, 1.5: b, true: c, ~: d}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, probs := Parse("plugin_config.yml", data)
		for _, p := range probs {
			if p.Message == "" || p.File != "plugin_config.yml" {
				t.Fatalf("bad problem %+v", p)
			}
			if p.Severity == diag.Error && p.Line < 0 {
				t.Fatalf("bad position %+v", p)
			}
		}
		if cfg == nil && !probs.HasErrors() {
			t.Fatalf("no config and no error")
		}
	})
}

func BenchmarkLoadConfig(b *testing.B) {
	p := project(b, validConfig+"externalVersion: 1.2.3\nmanualDiscovery: true\nluaName: my-toolkit\nminimumLuaVersion: '1.3'\n")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		cfg, probs := Load(p)
		if cfg == nil || len(probs) != 0 {
			b.Fatal(probs)
		}
	}
}

// TestPeekGivesLoadsValues: Peek gives the values Load gives, for a valid
// config and for one that Load refuses (a value of the wrong type), and
// nil where Load gives nil.
func TestPeekGivesLoadsValues(t *testing.T) {
	for _, text := range []string{
		validConfig,
		strings.Replace(validConfig, "name: my plugin", "name: [a]", 1) + "manualDiscovery: 'no'\n",
	} {
		p := project(t, text)
		want, _ := Load(p)
		got := Peek(p)
		if got == nil || want == nil {
			t.Fatalf("Peek %v, Load %v", got, want)
		}
		got.doc, want.doc = nil, nil
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("Peek gave\n%+v\nLoad gave\n%+v", got, want)
		}
	}
	if Peek(filepath.Join(t.TempDir(), "missing.yml")) != nil {
		t.Errorf("Peek of a missing file gave a config")
	}
	if Peek(project(t, "- a list\n")) != nil {
		t.Errorf("Peek of a list gave a config")
	}
}

// LoadSettings (download-logs) neither looks for schemaFile and srcDir nor
// reports them, and still checks the rest.
func TestLoadSettingsSkipsPaths(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "plugin_config.yml")
	text := strings.Replace(validConfig, "name: my plugin", "name: 7", 1)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, probs := LoadSettings(p)
	if cfg == nil || cfg.ID == "" || cfg.SrcPath != "" || cfg.SchemaPath != "" {
		t.Fatalf("LoadSettings gave %+v", cfg)
	}
	if len(probs) != 1 || probs[0].Pointer != "/name" {
		t.Errorf("LoadSettings problems %v, want only the one of /name", probs)
	}
	if _, all := Load(p); len(all) != 3 {
		t.Errorf("Load problems %v, want /name, /schemaFile and /srcDir", all)
	}
}

// An empty defaultLocale is valid, as in dvp, with a warning; the config (and so
// the artifact) gets the default locale.
func TestEmptyDefaultLocaleWarns(t *testing.T) {
	cfg, probs := Load(project(t, validConfig+"defaultLocale: ''\n"))
	if cfg == nil || cfg.DefaultLocale != DefaultLocale {
		t.Fatalf("cfg %+v, want defaultLocale %q", cfg, DefaultLocale)
	}
	if len(probs) != 1 || probs[0].Severity != diag.Warning || probs[0].Pointer != "/defaultLocale" || probs[0].Line != 11 {
		t.Errorf("problems %v, want one warning at /defaultLocale, line 11", probs)
	}
	if cfg, probs := Load(project(t, validConfig+"defaultLocale: fr-fr\n")); len(probs) != 0 || cfg.DefaultLocale != "fr-fr" {
		t.Errorf("defaultLocale fr-fr: %v, %q", probs, cfg.DefaultLocale)
	}
}

// schemaFile is looked up joined as written, as dvp's os.path.join and
// os.path.exists do, and named so in the message: a trailing slash or a
// missing directory before ".." means it does not exist; a path that only
// differs by "." or "//" is found and comes back cleaned.
func TestSchemaFileJoinedAsWritten(t *testing.T) {
	for _, tc := range []struct{ schemaFile, missing string }{
		{"schema.json/", "schema.json/"},
		{"nodir/../schema.json", "nodir/../schema.json"},
		{"./sub/../nosuch.json", "./sub/../nosuch.json"},
		{"~/schema.json", "~/schema.json"},
		{"./schema.json", ""},
		{".//schema.json", ""},
	} {
		p := project(t, strings.Replace(validConfig, "schemaFile: schema.json", "schemaFile: '"+tc.schemaFile+"'", 1))
		cfg, probs := Load(p)
		dir := filepath.Dir(p)
		if tc.missing == "" {
			if len(probs) != 0 || cfg.SchemaPath != filepath.Join(dir, "schema.json") {
				t.Errorf("%q: problems %v, SchemaPath %q", tc.schemaFile, probs, cfg.SchemaPath)
			}
			continue
		}
		want := fmt.Sprintf("The path '%s/%s' does not exist.", dir, tc.missing)
		if len(probs) != 1 || probs[0].Message != want {
			t.Errorf("%q: problems %v, want %q", tc.schemaFile, probs, want)
		}
	}
}
