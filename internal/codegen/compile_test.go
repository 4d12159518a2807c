package codegen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The compile fixture writes every golden case and every random schema of
// the property test as packages of one temporary module that requires the
// plugin SDK of this repository (through a replace directive, offline), plus a runner program
// that decodes, validates, re-encodes, prints and logs the samples of the
// golden cases. One `go vet` and one `go build` compile everything.

const propertySchemas = 200

type sample struct {
	Name           string          `json:"name"`
	Def            string          `json:"def"`
	JSON           json.RawMessage `json:"json"`
	UnmarshalError []string        `json:"unmarshalErrors,omitempty"`
	ValidateError  []string        `json:"validateErrors,omitempty"`
	Secrets        []string        `json:"secrets,omitempty"`
	Case           string          `json:"case,omitempty"`
}

type sampleResult struct {
	Name         string          `json:"name"`
	UnmarshalErr string          `json:"unmarshalErr"`
	ValidateErr  string          `json:"validateErr"`
	MarshalErr   string          `json:"marshalErr"`
	Marshaled    json.RawMessage `json:"marshaled"`
	Printed      string          `json:"printed"`
	Logged       string          `json:"logged"`
}

type fixture struct {
	dir        string
	vetOutput  string
	vetErr     error
	runOutput  []byte
	runErr     error
	results    map[string]sampleResult // by case + "/" + sample name
	samples    map[string][]sample     // by case
	propErrors map[int]error           // Generate errors of random schemas
	propFiles  map[int]map[string][]byte
	elapsed    time.Duration
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
	fixtureErr  error
)

// repoRoot is two levels above the package directory, where go test runs
// the tests (runtime.Caller would give a module path under -trimpath).
func repoRoot() (string, error) {
	return filepath.Abs(filepath.Join("..", ".."))
}

func getFixture(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("compiles generated code; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	fixtureOnce.Do(func() { theFixture, fixtureErr = buildFixture(t) })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return theFixture
}

func pkgIdent(name string) string {
	return "c_" + strings.NewReplacer("-", "_", ".", "_").Replace(name)
}

func buildFixture(t *testing.T) (*fixture, error) {
	start := time.Now()
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dvp-codegen-")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	fx := &fixture{dir: dir, results: map[string]sampleResult{}, samples: map[string][]sample{}, propErrors: map[int]error{}, propFiles: map[int]map[string][]byte{}}

	// Generated code imports the plugin SDK, a module of its own (sdk/).
	goMod := fmt.Sprintf("module example.com/p\n\ngo 1.25\n\nrequire github.com/dvpkit/dvp/sdk v0.0.0-dvp\n\nreplace github.com/dvpkit/dvp/sdk => %s\n", filepath.Join(root, "sdk"))
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644); err != nil {
		return nil, err
	}
	if sum, err := os.ReadFile(filepath.Join(root, "go.sum")); err == nil {
		os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
	}
	writePkg := func(rel string, files map[string][]byte) error {
		pd := filepath.Join(dir, rel)
		if err := os.MkdirAll(pd, 0o755); err != nil {
			return err
		}
		for n, b := range files {
			if err := os.WriteFile(filepath.Join(pd, n), b, 0o644); err != nil {
				return err
			}
		}
		return nil
	}

	// golden cases + their samples
	var imports, registry strings.Builder
	var allSamples []sample
	for _, c := range loadCases(t) {
		res, err := Generate(c.defs, Options{SchemaFile: "schema.json"})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", c.name, err)
		}
		if err := writePkg(filepath.Join("golden", c.name), res.Files); err != nil {
			return nil, err
		}
		id := pkgIdent(c.name)
		fmt.Fprintf(&imports, "\t%s %q\n", id, "example.com/p/golden/"+c.name)
		fmt.Fprintf(&registry, "\t%q: {\n", c.name)
		for _, d := range Definitions {
			fmt.Fprintf(&registry, "\t\t%q: func() target { return new(%s.%s) },\n", d, id, segment(d))
		}
		registry.WriteString("\t},\n")
		if data, err := os.ReadFile(filepath.Join(c.dir, "samples.json")); err == nil {
			var ss []sample
			if err := json.Unmarshal(data, &ss); err != nil {
				return nil, fmt.Errorf("%s/samples.json: %v", c.name, err)
			}
			for i := range ss {
				ss[i].Case = c.name
			}
			fx.samples[c.name] = ss
			allSamples = append(allSamples, ss...)
		}
	}
	runner := strings.Replace(strings.Replace(runnerSource, "//IMPORTS\n", imports.String(), 1), "//REGISTRY\n", registry.String(), 1)
	if err := writePkg("runner", map[string][]byte{"main.go": []byte(runner)}); err != nil {
		return nil, err
	}
	samplesJSON, _ := json.Marshal(allSamples)
	if err := os.WriteFile(filepath.Join(dir, "samples.json"), samplesJSON, 0o644); err != nil {
		return nil, err
	}

	// random schemas of the property test
	for i := 0; i < propertySchemas; i++ {
		defs := randomSchema(int64(i))
		res, err := Generate(defs, Options{SchemaFile: "schema.json"})
		if err != nil {
			fx.propErrors[i] = err
			continue
		}
		fx.propFiles[i] = res.Files
		if err := writePkg(filepath.Join("prop", fmt.Sprintf("r%03d", i)), res.Files); err != nil {
			return nil, err
		}
	}

	env := append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOWORK=off", "GOSUMDB=off", "GOTOOLCHAIN=local")
	// -trimpath keeps the temporary directory out of the build cache's
	// keys, so that a second run finds every package compiled.
	vet := exec.Command("go", "vet", "-trimpath", "./...")
	vet.Dir, vet.Env = dir, env
	out, err := vet.CombinedOutput()
	fx.vetOutput, fx.vetErr = string(out), err

	bin := filepath.Join(dir, "runner.bin")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./runner")
	build.Dir, build.Env = dir, env
	if out, err := build.CombinedOutput(); err != nil {
		fx.runErr = fmt.Errorf("building the runner: %v\n%s", err, out)
		fx.elapsed = time.Since(start)
		return fx, nil
	}
	run := exec.Command(bin, filepath.Join(dir, "samples.json"))
	var stderr bytes.Buffer
	run.Stderr = &stderr
	fx.runOutput, err = run.Output()
	if err != nil {
		fx.runErr = fmt.Errorf("running the runner: %v\n%s", err, stderr.String())
	} else {
		var results []sampleResult
		if err := json.Unmarshal(fx.runOutput, &results); err != nil {
			fx.runErr = err
		}
		for i, r := range results {
			fx.results[allSamples[i].Case+"/"+r.Name] = r
		}
	}
	fx.elapsed = time.Since(start)
	return fx, nil
}

// vetProblems returns the lines of the vet output about package dir rel.
func (fx *fixture) vetProblems(rel string) string {
	var lines []string
	for _, l := range strings.Split(fx.vetOutput, "\n") {
		if strings.Contains(l, rel+"/") || strings.Contains(l, "example.com/p/"+rel) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

func TestGoldenCompilesAndRoundTrips(t *testing.T) {
	fx := getFixture(t)
	t.Logf("fixture built in %v", fx.elapsed)
	if fx.vetErr != nil {
		// report per package below; this catches anything else
		t.Logf("go vet: %v", fx.vetErr)
	}
	if fx.runErr != nil {
		t.Fatal(fx.runErr)
	}
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			if p := fx.vetProblems(filepath.Join("golden", c.name)); p != "" {
				t.Fatalf("go vet / compile:\n%s", p)
			}
			ss := fx.samples[c.name]
			if len(ss) == 0 {
				t.Fatalf("no samples.json")
			}
			for _, s := range ss {
				r, ok := fx.results[c.name+"/"+s.Name]
				if !ok {
					t.Errorf("%s: no result", s.Name)
					continue
				}
				checkSample(t, s, r)
			}
		})
	}
	fx.checkVetAttributed(t)
}

// checkVetAttributed fails when go vet failed for a reason that names no
// generated package (the module did not load, ...), so that no test passes
// because vet never looked at the code.
func (fx *fixture) checkVetAttributed(t *testing.T) {
	t.Helper()
	if fx.vetErr != nil && !strings.Contains(fx.vetOutput, "golden/") && !strings.Contains(fx.vetOutput, "prop/") {
		t.Errorf("go vet failed:\n%s", fx.vetOutput)
	}
}

func splitErrors(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func checkSample(t *testing.T, s sample, r sampleResult) {
	t.Helper()
	if got := splitErrors(r.UnmarshalErr); !reflect.DeepEqual(got, s.UnmarshalError) {
		t.Errorf("%s: UnmarshalJSON errors:\n got %q\nwant %q", s.Name, got, s.UnmarshalError)
	}
	if len(s.UnmarshalError) > 0 {
		return
	}
	if got := splitErrors(r.ValidateErr); !reflect.DeepEqual(got, s.ValidateError) {
		t.Errorf("%s: Validate errors:\n got %q\nwant %q", s.Name, got, s.ValidateError)
	}
	if r.MarshalErr != "" {
		t.Errorf("%s: MarshalJSON: %s", s.Name, r.MarshalErr)
	} else if !jsonEqual(s.JSON, r.Marshaled) {
		t.Errorf("%s: round trip changed the data:\n  in: %s\n out: %s", s.Name, s.JSON, r.Marshaled)
	}
	for _, secret := range s.Secrets {
		if strings.Contains(r.Printed, secret) {
			t.Errorf("%s: fmt printed the secret %q:\n%s", s.Name, secret, r.Printed)
		}
		if strings.Contains(r.Logged, secret) {
			t.Errorf("%s: slog logged the secret %q:\n%s", s.Name, secret, r.Logged)
		}
		if !strings.Contains(string(r.Marshaled), secret) {
			t.Errorf("%s: MarshalJSON lost the secret %q", s.Name, secret)
		}
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func TestPropertyRandomSchemasCompile(t *testing.T) {
	fx := getFixture(t)
	fx.checkVetAttributed(t)
	ids := make([]int, 0, propertySchemas)
	for i := 0; i < propertySchemas; i++ {
		ids = append(ids, i)
	}
	sort.Ints(ids)
	failed := 0
	for _, i := range ids {
		if err := fx.propErrors[i]; err != nil {
			failed++
			t.Errorf("random schema %d (seed %d): Generate: %v", i, i, err)
			continue
		}
		if p := fx.vetProblems(fmt.Sprintf("prop/r%03d", i)); p != "" {
			failed++
			if failed <= 5 {
				defs := randomSchema(int64(i))
				b, _ := json.MarshalIndent(defs, "", "  ")
				t.Errorf("random schema %d does not compile / vet:\n%s\nschema:\n%s", i, p, b)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d random schemas failed", failed, propertySchemas)
	}
}

const runnerSource = `// Command runner decodes, validates, encodes, prints and logs the samples
// of the golden cases with the generated code.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

//IMPORTS
)

type target interface {
	json.Unmarshaler
	Validate() error
}

var registry = map[string]map[string]func() target{
//REGISTRY
}

type sample struct {
	Case string          ` + "`json:\"case\"`" + `
	Name string          ` + "`json:\"name\"`" + `
	Def  string          ` + "`json:\"def\"`" + `
	JSON json.RawMessage ` + "`json:\"json\"`" + `
}

type result struct {
	Name         string          ` + "`json:\"name\"`" + `
	UnmarshalErr string          ` + "`json:\"unmarshalErr\"`" + `
	ValidateErr  string          ` + "`json:\"validateErr\"`" + `
	MarshalErr   string          ` + "`json:\"marshalErr\"`" + `
	Marshaled    json.RawMessage ` + "`json:\"marshaled\"`" + `
	Printed      string          ` + "`json:\"printed\"`" + `
	Logged       string          ` + "`json:\"logged\"`" + `
}

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var samples []sample
	if err := json.Unmarshal(data, &samples); err != nil {
		panic(err)
	}
	results := []result{}
	for _, s := range samples {
		r := result{Name: s.Name}
		mk, ok := registry[s.Case][s.Def]
		if !ok {
			panic("unknown case/definition " + s.Case + "/" + s.Def)
		}
		v := mk()
		if err := json.Unmarshal(s.JSON, v); err != nil {
			r.UnmarshalErr = err.Error()
			results = append(results, r)
			continue
		}
		if err := v.Validate(); err != nil {
			r.ValidateErr = err.Error()
		}
		if b, err := json.Marshal(v); err != nil {
			r.MarshalErr = err.Error()
		} else {
			r.Marshaled = b
		}
		r.Printed = fmt.Sprintf("%v\n%+v\n%#v\n%s\n%q\n%x", v, v, v, v, v, v)
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "v", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "v", v)
		r.Logged = buf.String()
		results = append(results, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		panic(err)
	}
}
`
