package build

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/project"
)

// reusedSteps are the names of the steps of res that reused a result.
func reusedSteps(res *Result) []string {
	var names []string
	for _, s := range res.Steps {
		if s.Reused {
			names = append(names, s.Name)
		}
	}
	return names
}

// TestUnchangedFilesNotCheckedAgain: a build whose plugin_config.yml and
// schema.json have the bytes the last build checked does not check them
// again (the validate step is reused) and reports the problems that build
// found, warnings included; a change of either file, or of the path the
// config is given by, is checked in full — including a mistake that only
// the checks against the files' JSON Schemas find.
func TestUnchangedFilesNotCheckedAgain(t *testing.T) {
	t.Parallel()
	needGo(t)
	dir := builtCopy(t)
	cfgPath, schemaPath := filepath.Join(dir, "plugin_config.yml"), filepath.Join(dir, "schema.json")
	// A warning of the schema's checks (beyond dvp's): it must be
	// reported by every build, checked or not.
	edit(t, schemaPath, `"nameField": "name",`, `"nameField": "nosuch",`)
	const warning = "nameField 'nosuch' names no property of repositoryDefinition"
	validateReused := func(res *Result) bool { return slices.Contains(reusedSteps(res), "validate") }
	build := func(t *testing.T, what string, wantReused bool, mod ...func(*Options)) *Result {
		t.Helper()
		res := runBuild(t, dir, mod...)
		if got := validateReused(res); got != wantReused {
			t.Fatalf("%s: validate reused %v, want %v (problems %v)", what, got, wantReused, res.Problems)
		}
		return res
	}
	hasWarning := func(res *Result) bool {
		return slices.ContainsFunc(messages(res.Problems, diag.Warning), func(m string) bool { return strings.Contains(m, warning) })
	}

	first := build(t, "first", false)
	mustSucceed(t, first)
	if !hasWarning(first) {
		t.Fatalf("no warning %q in %v", warning, first.Problems)
	}
	second := build(t, "unchanged", true)
	mustSucceed(t, second)
	if second.Problems.String() != first.Problems.String() || !second.UpToDate || second.SHA256 != first.SHA256 {
		t.Errorf("unchanged files: problems\n%v\nwant\n%v\nup to date %v", second.Problems, first.Problems, second.UpToDate)
	}
	// Touched only: the same bytes.
	future := time.Now().Add(time.Hour)
	for _, p := range []string{cfgPath, schemaPath} {
		if err := os.Chtimes(p, future, future); err != nil {
			t.Fatal(err)
		}
	}
	if res := build(t, "touched", true); res.Problems.String() != first.Problems.String() {
		t.Errorf("touched files: problems %v", res.Problems)
	}

	// The config given by another path to the same file: its problems
	// name that path.
	other := dir + string(filepath.Separator) + "." + string(filepath.Separator) + "plugin_config.yml"
	res := build(t, "another config path", false, func(o *Options) { o.ConfigPath = other })
	mustSucceed(t, res)
	build(t, "the first path again", false)

	// plugin_config.yml: a value only its JSON Schema refuses.
	edit(t, cfgPath, "pluginType: STAGED", "pluginType: STAGGERED")
	res = build(t, "a refused pluginType", false)
	if !res.Failed() || !slices.ContainsFunc(messages(res.Problems, diag.Error), func(m string) bool { return strings.Contains(m, "STAGGERED") }) {
		t.Fatalf("pluginType STAGGERED: failed %v, problems %v", res.Failed(), res.Problems)
	}
	// Put back: the bytes the last successful build checked (a failed
	// build records nothing).
	edit(t, cfgPath, "pluginType: STAGGERED", "pluginType: STAGED")
	if res = build(t, "pluginType put back", true); res.Problems.String() != first.Problems.String() {
		t.Errorf("pluginType put back: problems %v", res.Problems)
	}

	// schema.json: the warning's cause fixed, then a mistake only dvp's
	// meta-schema finds.
	edit(t, schemaPath, `"nameField": "nosuch",`, `"nameField": "name",`)
	res = build(t, "the warning fixed", false)
	mustSucceed(t, res)
	if hasWarning(res) {
		t.Errorf("the fixed schema still warns: %v", res.Problems)
	}
	if res = build(t, "the warning fixed, again", true); hasWarning(res) {
		t.Errorf("the fixed schema warns when reused: %v", res.Problems)
	}
	edit(t, schemaPath, `"snapshotDefinition": {
        "type" : "object"`, `"snapshotDefinition": {
        "type" : "objet"`)
	res = build(t, "a wrong type in schema.json", false)
	if !res.Failed() || !slices.ContainsFunc(res.Problems, func(p diag.Problem) bool {
		return p.Severity == diag.Error && p.File == schemaPath && strings.Contains(p.Message, "objet")
	}) {
		t.Fatalf("type objet: failed %v, problems %v", res.Failed(), res.Problems)
	}
}

// TestCheckKey: the key of a check changes with each of its inputs: the
// dvp binary, either file's bytes, and the paths.
func TestCheckKey(t *testing.T) {
	t.Parallel()
	dir := fixture(t)
	p := project.LoadUnchecked(filepath.Join(dir, "plugin_config.yml"))
	if p.Problems.HasErrors() || p.Config == nil || p.SchemaData == nil {
		t.Fatalf("the fixture did not load: %v", p.Problems)
	}
	key := checkKey("dvp-1", p)
	if checkKey("dvp-1", p) != key {
		t.Fatal("the key is not a function of its inputs")
	}
	changes := map[string]func(q *project.Project){
		"config bytes": func(q *project.Project) { q.ConfigData = append(slices.Clone(q.ConfigData), '\n') },
		"schema bytes": func(q *project.Project) { q.SchemaData = append(slices.Clone(q.SchemaData), '\n') },
		"config path":  func(q *project.Project) { q.Config.Path = "./" + q.Config.Path },
		"config dir":   func(q *project.Project) { q.Config.Dir += "x" },
		"srcDir":       func(q *project.Project) { q.Config.SrcPath += "x" },
		"schemaFile":   func(q *project.Project) { q.Config.SchemaPath += "x" },
		// The same bytes split otherwise between the two files.
		"split": func(q *project.Project) {
			q.ConfigData, q.SchemaData = append(slices.Clone(q.ConfigData), q.SchemaData[0]), q.SchemaData[1:]
		},
	}
	for what, change := range changes {
		q := *p
		c := *p.Config
		q.Config = &c
		change(&q)
		if checkKey("dvp-1", &q) == key {
			t.Errorf("%s: the same key", what)
		}
	}
	if checkKey("dvp-2", p) == key {
		t.Errorf("another dvp binary: the same key")
	}
}
