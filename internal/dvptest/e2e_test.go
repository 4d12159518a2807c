//go:build e2e

package dvptest_test

// dvp test through the built dvp binary (make e2e): fresh scaffolds pass;
// a plugin whose pre-snapshot fails makes dvp test exit 1 naming the
// scenario, the step and the plugin's message; a SIGINT stops a run, and
// a second one during the clean-up ends it at once; and
// neither leaves an engine process, a temporary directory or a mount
// behind. The binary is $DVP (make e2e gives bin/dvp) or built once here.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/testbuild"
	"github.com/dvpkit/dvp/internal/testio"
)

var (
	dvpOnce sync.Once
	dvpBin  string
	dvpErr  error
)

// dvp returns the dvp binary under test.
func dvp(t *testing.T) string {
	t.Helper()
	dvpOnce.Do(func() {
		if p := os.Getenv("DVP"); p != "" {
			dvpBin, dvpErr = filepath.Abs(p)
			return
		}
		dvpBin, dvpErr = testbuild.DVP(filepath.Join("..", ".."))
	})
	if dvpErr != nil {
		t.Fatalf("no dvp binary: %v", dvpErr)
	}
	return dvpBin
}

// project is a fresh dvp init project, and the TMPDIR its dvp test runs
// with (to see that nothing is left there).
type project struct {
	dir, tmp string
	env      []string
}

func newProject(t *testing.T, name, pluginType string) *project {
	t.Helper()
	base := t.TempDir()
	p := &project{dir: filepath.Join(base, "plugin"), tmp: filepath.Join(base, "tmp")}
	for _, d := range []string{p.dir, p.tmp} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p.env = append(os.Environ(), "TMPDIR="+p.tmp, "HOME="+base)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DVP_") {
			p.env = append(p.env, strings.SplitN(kv, "=", 2)[0]+"=")
		}
	}
	// The user's go caches (HOME is the test's).
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err == nil {
		vals := strings.Split(strings.TrimSpace(string(out)), "\n")
		for i, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
			if i < len(vals) {
				p.env = append(p.env, k+"="+vals[i])
			}
		}
	}
	p.run(t, 0, "init", "-n", name, "-s", pluginType)
	return p
}

func (p *project) command(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(dvp(t), args...)
	cmd.Dir, cmd.Env = p.dir, p.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

// run runs dvp and checks its exit code.
func (p *project) run(t *testing.T, want int, args ...string) string {
	t.Helper()
	cmd, out := p.command(t, args...)
	err := cmd.Run()
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("dvp %s exited %d, want %d:\n%s", strings.Join(args, " "), got, want, out)
	}
	return out.String()
}

// assertNothingLeft checks that the run left no temporary directory, no
// engine process with its data there, and no mount link into it.
func (p *project) assertNothingLeft(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(p.tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "dvp-test-") {
			t.Errorf("the run's temporary directory %s is left", e.Name())
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range procs {
		b, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		if strings.Contains(string(b), "serve") && strings.Contains(string(b), p.tmp) {
			t.Errorf("an engine process is left: %s %q", c, bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
	// The scaffold mounts under the local environment's scratch path, in
	// the home directory (HOME is the test's).
	links, _ := filepath.Glob(filepath.Join(filepath.Dir(p.dir), ".dvp-scratch", "*", "*", "dlpx_staged_mounts", "*"))
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, p.tmp) {
			t.Errorf("a mount is left: %s -> %s", l, target)
		}
	}
}

// junit is the common JUnit XML shape.
type junit struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Time     string `xml:"time,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) *junit {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("<?xml ")) {
		t.Errorf("no XML declaration: %.40s", b)
	}
	var j junit
	if err := xml.Unmarshal(b, &j); err != nil {
		t.Fatalf("the JUnit report is not XML of testsuites: %v\n%s", err, b)
	}
	return &j
}

func TestFreshScaffoldsPass(t *testing.T) {
	for _, typ := range []string{"STAGED", "DIRECT"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			p := newProject(t, "Fresh "+typ, typ)
			out := p.run(t, 0, "test", "--junit", "report.xml")
			for _, want := range []string{"=== lifecycle", "ok    1 link ds1", "ok    4 provision vdb1", "--- PASS lifecycle", "PASS: 1 passed, 0 failed"} {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in:\n%s", want, out)
				}
			}
			j := readJUnit(t, filepath.Join(p.dir, "report.xml"))
			if len(j.Suites) != 1 || j.Suites[0].Name != "lifecycle" || j.Failures != 0 || j.Tests != len(j.Suites[0].Cases) || j.Tests < 6 {
				t.Errorf("JUnit: %+v", j)
			}
			for _, c := range j.Suites[0].Cases {
				if c.Classname != "lifecycle" || c.Time == "" || c.Failure != nil || c.Skipped != nil {
					t.Errorf("testcase %+v", c)
				}
			}
			p.assertNothingLeft(t)
		})
	}
}

// A pre-snapshot that fails: exit 1, with the scenario, the step and the
// plugin's message, in the text output, the JUnit file and the JSON.
const brokenPreSnapshot = `package main

import (
	"context"

	"github.com/dvpkit/dvp/sdk"

	"broken/generated"
)

func init() {
	plugin.Linked.PreSnapshot = func(ctx context.Context, s sdk.StagedSource[generated.LinkedSourceDefinition], r generated.RepositoryDefinition, c generated.SourceConfigDefinition, p *generated.SnapshotParametersDefinition) error {
		return sdk.UserError{Message: "the staging copy is broken", Action: "Fix the copy.", Output: "rsync: error 23"}
	}
}
`

func TestBrokenPreSnapshotFails(t *testing.T) {
	t.Parallel()
	p := newProject(t, "Broken", "STAGED")
	if err := os.WriteFile(filepath.Join(p.dir, "src", "broken.go"), []byte(brokenPreSnapshot), 0o644); err != nil {
		t.Fatal(err)
	}
	out := p.run(t, 1, "test", "--junit", "report.xml")
	for _, want := range []string{"=== lifecycle", "FAIL  1 link ds1", "the staging copy is broken", "rsync: error 23", "skip  2 sync ds1", "--- FAIL lifecycle", "FAIL: 0 passed, 1 failed", "--keep"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	p.assertNothingLeft(t)
	j := readJUnit(t, filepath.Join(p.dir, "report.xml"))
	if j.Failures != 1 || len(j.Suites) != 1 || j.Suites[0].Failures != 1 || j.Suites[0].Skipped != len(j.Suites[0].Cases)-1 {
		t.Fatalf("JUnit: %+v", j)
	}
	f := j.Suites[0].Cases[0].Failure
	if f == nil || !strings.Contains(f.Message, "the staging copy is broken") || !strings.Contains(f.Text, "rsync: error 23") || j.Suites[0].Cases[0].Name != "1 link ds1" {
		t.Errorf("the failure: %+v", j.Suites[0].Cases[0])
	}
	js := p.run(t, 1, "test", "-o", "json")
	for _, want := range []string{`"status": "failed"`, `"name": "link ds1"`, "the staging copy is broken"} {
		if !strings.Contains(js, want) {
			t.Errorf("no %q in the JSON report:\n%s", want, js)
		}
	}
	p.assertNothingLeft(t)
}

// A SIGINT while a step runs: dvp test deletes what it made, stops its
// engine, removes its directory and exits 130.
func TestInterruptCleansUp(t *testing.T) {
	t.Parallel()
	p := newProject(t, "Interrupted", "STAGED")
	cmd, out, done, _ := p.startSlowSync(t)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := <-done
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("dvp test after SIGINT: %v, want exit 130:\n%s", err, out)
	}
	for _, want := range []string{"ok    1 link ds1", "INT   2 sync ds1", "INTERRUPTED", "Interrupted (SIGINT): what dvp test made was deleted and its engine stopped.",
		"the set-up on staging (slow.yml:10) was stopped: dvp test was interrupted", "INTERRUPTED: 0 passed, 0 failed, 1 interrupted, 0 not run"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	// An interrupt is not a failure, nor a "context canceled".
	for _, bad := range []string{"1 failed", "context canceled", "FAIL"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("%q in:\n%s", bad, out)
		}
	}
	if strings.Contains(out.String(), "clean-up:") {
		t.Errorf("the clean-up had problems:\n%s", out)
	}
	p.assertNothingLeft(t)
}

// A second SIGINT during the clean-up that the first one started: dvp
// test stops its engine at once, still removes its temporary directory
// (the engine's data, the built artifact) and exits 130 saying so.
func TestSecondInterruptRemovesTemporaryDirectory(t *testing.T) {
	t.Parallel()
	p := newProject(t, "Interrupted2", "STAGED")
	cmd, out, done, waitFor := p.startSlowSync(t)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// The step reports its interruption before the clean-up starts:
	// the second signal comes during the clean-up.
	waitFor("the step was interrupted", func() bool { return strings.Contains(out.String(), "INT   2 sync ds1") })
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("the second SIGINT: %v (the clean-up ended first):\n%s", err, out)
	}
	err := <-done
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("dvp test after two SIGINTs: %v, want exit 130:\n%s", err, out)
	}
	want := "Interrupted (SIGINT): dvp test stopped its engine at once and removed its temporary directory, with the engine's data."
	if !strings.Contains(out.String(), want) {
		t.Errorf("no %q in:\n%s", want, out)
	}
	p.assertNothingLeft(t)
}

// startSlowSync starts `dvp test` on a scenario whose second step (a sync)
// has a set-up that never ends, and returns once that set-up runs: the
// command, its output, its end and waitFor, which polls until cond holds
// (dvp test ending first fails the test).
func (p *project) startSlowSync(t *testing.T) (cmd *exec.Cmd, out *testio.Buffer, done <-chan error, waitFor func(what string, cond func() bool)) {
	t.Helper()
	mark := filepath.Join(t.TempDir(), "running")
	spec := `environments:
  staging: {local: true}
source_configs:
  data: {environment: staging, parameters: {name: data}}
scenarios:
  - name: slow
    steps:
      - link: {name: ds1, source_config: data, environment: staging}
      - sync: ds1
        setup: {environment: staging, run: "touch ` + mark + `; exec sleep 300"}
`
	if err := os.WriteFile(filepath.Join(p.dir, "slow.yml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, _ = p.command(t, "test", "-f", "slow.yml")
	out = &testio.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	waitFor = func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case err := <-ended:
				t.Fatalf("dvp test ended (%v) before %s:\n%s", err, what, out)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	waitFor("the set-up ran", func() bool { _, err := os.Stat(mark); return err == nil })
	return cmd, out, ended, waitFor
}

// upgrade steps: to a newer build of the project (built first), and to an
// older one, which the engine refuses with the reason the step expects.
func TestUpgradeSteps(t *testing.T) {
	t.Parallel()
	p := newProject(t, "Upgraded", "STAGED")
	cfg, err := os.ReadFile(filepath.Join(p.dir, "plugin_config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for dir, build := range map[string]string{"v2": "0.2.0", "v0": "0.0.1"} {
		cp := exec.Command("cp", "-a", p.dir, filepath.Join(filepath.Dir(p.dir), dir))
		if out, err := cp.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		c := strings.Replace(string(cfg), "buildNumber: 0.1.0", "buildNumber: "+build, 1)
		if err := os.WriteFile(filepath.Join(filepath.Dir(p.dir), dir, "plugin_config.yml"), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := `environments:
  staging: {local: true}
source_configs:
  data: {environment: staging, parameters: {name: data}}
scenarios:
  - name: upgrade
    steps:
      - link: {name: ds1, source_config: data, environment: staging}
      - upgrade: {plugin_config: ../v2/plugin_config.yml}
      - sync: ds1
        check: [snapshots: {of: ds1, count: 2}]
      - name: an older build is refused
        upgrade: {plugin_config: ../v0/plugin_config.yml}
        expect: {failure: "build number"}
      - delete: ds1
`
	if err := os.WriteFile(filepath.Join(p.dir, "upgrade.yml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	out := p.run(t, 0, "test", "-f", "upgrade.yml")
	for _, want := range []string{"ok    2 upgrade", "ok    4 an older build is refused", "PASS: 1 passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	p.assertNothingLeft(t)
}

// -e: the scenarios run on a given engine, and what the run made there —
// the objects, and the plugin it installed — is deleted at the end.
func TestGivenEngine(t *testing.T) {
	t.Parallel()
	p := newProject(t, "Remote", "DIRECT")
	dir := t.TempDir()
	ready := filepath.Join(dir, "url")
	engine := exec.Command(dvp(t), "engine", "serve", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--ready-file", ready)
	engine.Env = append(p.env, "DVP_ENGINE_ADMIN_PASSWORD=given-secret")
	if err := engine.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- engine.Wait() }()
	t.Cleanup(func() { engine.Process.Signal(syscall.SIGTERM); <-exited })
	var url string
	for url == "" {
		if b, err := os.ReadFile(ready); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			url = strings.TrimSpace(string(b))
		}
		select {
		case err := <-exited:
			t.Fatalf("the engine stopped: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.env = append(p.env, "DVP_USER=admin", "DVP_PASSWORD=given-secret")
	out := p.run(t, 0, "test", "-e", url)
	if !strings.Contains(out, "engine "+url) || !strings.Contains(out, "PASS: 1 passed") {
		t.Errorf("not run on %s:\n%s", url, out)
	}
	for _, list := range [][]string{{"toolkit", "list"}, {"environment", "list"}, {"dsource", "list"}} {
		// -o json: an empty list is [] (the text form says so on stderr).
		if left := p.run(t, 0, append(list, "-o", "json", "-e", url)...); strings.TrimSpace(left) != "[]" {
			t.Errorf("dvp %s: left on the engine:\n%s", strings.Join(list, " "), left)
		}
	}
	p.assertNothingLeft(t)

	// A plugin already on that engine is left as it was: the same build
	// runs and stays; another build is refused before it replaces it.
	p.run(t, 0, "build")
	p.run(t, 0, "upload", "-e", url)
	installed := func() string {
		var tks []struct {
			Identifier, ArtifactSha256 string
		}
		if err := json.Unmarshal([]byte(p.run(t, 0, "toolkit", "list", "-o", "json", "-e", url)), &tks); err != nil || len(tks) != 1 {
			t.Fatalf("toolkit list: %v %+v", err, tks)
		}
		return tks[0].ArtifactSha256
	}
	before := installed()
	p.run(t, 0, "test", "-e", url)
	if got := installed(); got != before {
		t.Errorf("the same build's run replaced the installed artifact %s with %s", before, got)
	}
	src := filepath.Join(p.dir, "src", "plugin_runner.go")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, append(b, []byte("\nfunc anotherBuild() string { return \"another build\" }\n\nvar _ = anotherBuild()\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	out = p.run(t, 1, "test", "-e", url)
	if !strings.Contains(out, "already has the plugin") || !strings.Contains(out, "this run's build is another one") || !strings.Contains(out, "dvp toolkit delete ") {
		t.Errorf("another build was not refused:\n%s", out)
	}
	if got := installed(); got != before {
		t.Errorf("the installed artifact %s was replaced with %s", before, got)
	}
	p.assertNothingLeft(t)
}
