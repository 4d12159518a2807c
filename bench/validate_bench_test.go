// Package bench measures whole dvp commands against baselines run in the
// same benchmark, so figures are ratios that do not depend on the machine.
package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/testbuild"
)

// dvpBinary is dvp built as `make build` builds it (static, -trimpath),
// through internal/testbuild: the benchmarks of one run (each row of make
// bench is a go test process of its own) and the test suites share one
// build of the same sources, and a second run reuses it.
func dvpBinary(b *testing.B) string {
	b.Helper()
	dir, err := testbuild.Binaries("..", append(os.Environ(), "CGO_ENABLED=0"), []string{"-trimpath"}, "./cmd/dvp")
	if err != nil {
		b.Fatalf("building dvp: %v", err)
	}
	return filepath.Join(dir, "dvp")
}

// validProject writes a valid STAGED project (the seed plugin's schema).
func validProject(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		b.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write("plugin_config.yml", `id: 16bef554-9470-11e9-b2e3-8c8590d4a42c
name: Seed rsync
language: GO
hostTypes:
- UNIX
pluginType: STAGED
entryPoint: plugin_runner:plugin
srcDir: src
schemaFile: schema.json
buildNumber: 0.1.0
`)
	write("schema.json", `{
    "repositoryDefinition": {"type": "object", "properties": {"name": {"type": "string"}}, "nameField": "name", "identityFields": ["name"]},
    "sourceConfigDefinition": {"type": "object", "required": ["name", "path"], "additionalProperties": false,
        "properties": {"name": {"type": "string", "prettyName": "Dataset Name"}, "path": {"type": "string", "format": "unixpath"}},
        "nameField": "name", "identityFields": ["path"]},
    "virtualSourceDefinition": {"type": "object", "required": ["mountLocation"], "properties": {"mountLocation": {"type": "string", "format": "unixpath"}}},
    "linkedSourceDefinition": {"type": "object", "additionalProperties": false, "required": ["sourceAddress", "username", "mountLocation"],
        "properties": {"sourceAddress": {"type": "string"}, "username": {"type": "string"}, "mountLocation": {"type": "string", "format": "unixpath"}}},
    "snapshotDefinition": {"type": "object", "additionalProperties": false, "properties": {}},
    "snapshotParametersDefinition": {"type": "object", "additionalProperties": false, "properties": {}}
}
`)
	return dir
}

// BenchmarkValidateVsPython runs `dvp validate` on a valid project and a bare
// `python3 -c pass` alternately, and reports dvp's time as a ratio of
// Python's start-up (its limit in docs/performance.md: below 1; the Python
// dvp needs ~17x).
func BenchmarkValidateVsPython(b *testing.B) {
	python := realPython(b)
	bin := dvpBinary(b)
	dir := validProject(b)
	home := b.TempDir()
	run := func(name string, args ...string) time.Duration {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+home)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return time.Since(start)
	}
	// Warm the page cache for both.
	run(bin, "validate")
	run(python, "-c", "pass")
	var dvpTotal, pyTotal time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dvpTotal += run(bin, "validate")
		pyTotal += run(python, "-c", "pass")
	}
	b.StopTimer()
	b.ReportMetric(float64(dvpTotal.Microseconds())/float64(b.N)/1000, "dvp-ms/op")
	b.ReportMetric(float64(pyTotal.Microseconds())/float64(b.N)/1000, "python-ms/op")
	b.ReportMetric(float64(dvpTotal)/float64(pyTotal), "dvp/python")
}

// realPython returns the interpreter itself, not a wrapper such as a pyenv
// shim (a bash script that would inflate the baseline several times over).
func realPython(b *testing.B) string {
	b.Helper()
	shim, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 not installed: no baseline")
	}
	out, err := exec.Command(shim, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		b.Fatalf("python3: %v", err)
	}
	return strings.TrimSpace(string(out))
}
