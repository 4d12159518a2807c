//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hookSession is an engine with testdata/plugins/hook-recorder installed
// (built with extendedStartStopHooks as ext says), a local environment
// "here" and a source config "sc" of its repository. Every dvp command
// runs through the CLI.
type hookSession struct {
	t    *testing.T
	rec  *recorder
	eng  []string
	root string
	log  string // the record file the plugin and the hooks append to
	seen int    // how much of it taken returned
}

func newHookSession(t *testing.T, ext bool) *hookSession {
	root := t.TempDir()
	home, data := filepath.Join(root, "home"), filepath.Join(root, "data")
	os.MkdirAll(home, 0o755)
	e := startEngineHome(t, data, home, adminPassword)
	s := &hookSession{t: t, root: root, log: filepath.Join(root, "work", "record"),
		rec: &recorder{t: t, home: home, env: append([]string{"DVP_PASSWORD=" + adminPassword}, goCacheEnv(t)...)},
		eng: []string{"-e", e.url, "-u", "admin"}}
	os.MkdirAll(filepath.Dir(s.log), 0o755)
	project := filepath.Join(root, "plugin")
	if err := os.CopyFS(project, os.DirFS(filepath.Join("..", "..", "..", "testdata", "plugins", "hook-recorder"))); err != nil {
		t.Fatal(err)
	}
	if ext {
		cfg := filepath.Join(project, "plugin_config.yml")
		b, _ := os.ReadFile(cfg)
		os.WriteFile(cfg, append(b, []byte("extendedStartStopHooks: true\n")...), 0o644)
	}
	art := filepath.Join(root, "artifact.json")
	s.must("build", "-c", filepath.Join(project, "plugin_config.yml"), "-a", art)
	s.must("upload", "-a", art, "--wait")
	s.must("environment", "add", "here", "--local")
	// The repository names source-config add takes are listed.
	if r := s.must("environment", "repositories", "here"); !strings.Contains(r.stdout, "\trecorder-repo\t") {
		t.Fatalf("dvp environment repositories here:\n%s\n%s", r.stdout, r.stderr)
	}
	s.must("source-config", "add", "sc", "--environment", "here", "--repository", "recorder-repo", "--params", `{"name": "sc"}`)
	return s
}

// run runs dvp with the engine's flags after the command's words (those
// before the first flag).
func (s *hookSession) run(args ...string) result {
	s.t.Helper()
	i := 0
	for i < len(args) && !strings.HasPrefix(args[i], "-") {
		i++
	}
	full := append(append(append([]string{}, args[:i]...), s.eng...), args[i:]...)
	if args[0] == "build" {
		full = args
	}
	return s.rec.run("", nil, full...)
}

func (s *hookSession) must(args ...string) result {
	s.t.Helper()
	r := s.run(args...)
	if r.code != 0 {
		s.t.Fatalf("dvp %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// taken returns what the record file got since the last call, the steps
// separated by spaces.
func (s *hookSession) taken() string {
	s.t.Helper()
	b, err := os.ReadFile(s.log)
	if err != nil && !os.IsNotExist(err) {
		s.t.Fatal(err)
	}
	if len(b) < s.seen {
		s.t.Fatalf("the record file shrank")
	}
	got := strings.Join(strings.Fields(string(b[s.seen:])), " ")
	s.seen = len(b)
	return got
}

// hookFlags are --hook options that append the hook's name to the record.
func (s *hookSession) hookFlags(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, "--hook", n+"=echo "+n+" >> "+s.log+"; echo hook "+n+" says hello")
	}
	return out
}

var vdbHookNames = []string{"configure-clone", "pre-refresh", "post-refresh", "pre-rollback", "post-rollback", "pre-snapshot", "post-snapshot",
	"pre-start", "post-start", "pre-stop", "post-stop"}

// TestHooksEndToEnd links a dSource and provisions a VDB of the
// hook-recorder plugin with every hook through the CLI (one from a file),
// runs every operation, and checks from the record file the plugin and
// the hooks wrote on the environment that each hook ran where a Delphix
// engine runs it; the hooks' output is in the job events the CLI prints;
// status shows the hooks; an update replaces and removes hooks; a failing
// pre hook fails the job naming the hook, before the plugin is called.
func TestHooksEndToEnd(t *testing.T) {
	s := newHookSession(t, false)
	postSync := filepath.Join(s.root, "post-sync.sh")
	os.WriteFile(postSync, []byte("echo post-sync >> "+s.log+"\necho 'post-sync from a file'\n"), 0o644)
	params := `{"recordFile": "` + s.log + `"}`
	r := s.must(append([]string{"dsource", "link", "ds", "--source-config", "sc", "--params", params, "--hook", "post-sync=@" + postSync}, s.hookFlags("pre-sync")...)...)
	if got := s.taken(); got != "linked.mount_specification pre-sync linked.pre_snapshot linked.post_snapshot post-sync" {
		t.Errorf("link: %s", got)
	}
	for _, w := range []string{"Running the pre-sync hook on here", "pre-sync: hook pre-sync says hello", "post-sync: post-sync from a file"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("the link's events lack %q:\n%s", w, r.stderr)
		}
	}
	r = s.must("dsource", "status", "ds")
	if !strings.Contains(r.stderr, "Hooks:\n  pre-sync: echo pre-sync >> ") || !strings.Contains(r.stderr, "  post-sync: echo post-sync >> ") {
		t.Errorf("status shows no hooks:\n%s", r.stderr)
	}
	r = s.must("dsource", "status", "ds", "-o", "json")
	var report struct {
		Operations map[string][]struct{ Type, Command string } `json:"operations"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil || len(report.Operations["preSync"]) != 1 || report.Operations["preSync"][0].Type != "RunCommandOnSourceOperation" {
		t.Errorf("status -o json: %v\n%s", err, r.stdout)
	}
	s.taken()
	snap := strings.TrimSpace(s.must("dsource", "sync", "ds").stdout)
	if got := s.taken(); got != "linked.mount_specification pre-sync linked.pre_snapshot linked.post_snapshot post-sync" {
		t.Errorf("sync: %s", got)
	}

	s.must(append([]string{"vdb", "provision", "v", "--snapshot", snap, "--environment", "here", "--params", params}, s.hookFlags(vdbHookNames...)...)...)
	if got := s.taken(); got != "virtual.mount_specification virtual.configure configure-clone" {
		t.Errorf("provision: %s", got)
	}
	for _, tc := range []struct{ op, want string }{
		{"refresh", "pre-refresh virtual.unconfigure virtual.mount_specification virtual.configure configure-clone post-refresh"},
		{"snapshot", "pre-snapshot virtual.pre_snapshot virtual.post_snapshot post-snapshot"},
		{"rollback", "pre-rollback virtual.unconfigure virtual.mount_specification virtual.reconfigure post-rollback"},
		{"stop", "pre-stop virtual.stop post-stop"},
		{"start", "pre-start virtual.mount_specification virtual.start post-start"},
		// Without extendedStartStopHooks, enable and disable run none.
		{"disable", "virtual.unconfigure"},
		{"enable", "virtual.status virtual.mount_specification virtual.reconfigure"},
	} {
		r := s.must("vdb", tc.op, "v")
		if got := s.taken(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.op, got, tc.want)
		}
		if !strings.Contains(r.stderr, "says hello") && tc.op != "disable" && tc.op != "enable" {
			t.Errorf("%s: no hook output in the events:\n%s", tc.op, r.stderr)
		}
	}

	// Update: a failing pre-refresh replaces the old one, post-refresh
	// is removed, the others stay.
	s.must("vdb", "update", "v", "--hook", "pre-refresh=echo cannot cache; exit 3", "--hook", "post-refresh=")
	r = s.run("vdb", "refresh", "v")
	if r.code != 1 || !strings.Contains(r.stderr, "The pre-refresh hook of VDB v failed on here: it exited with 3.") ||
		!strings.Contains(r.stderr, "cannot cache") || !strings.Contains(r.stderr, "The refresh did not run: v is as it was.") {
		t.Errorf("a failing pre-refresh: exit %d\n%s", r.code, r.stderr)
	}
	if got := s.taken(); got != "" {
		t.Errorf("the plugin ran after a failed pre-refresh: %s", got)
	}
	r = s.must("vdb", "status", "v", "-o", "json")
	report.Operations = nil
	json.Unmarshal([]byte(r.stdout), &report)
	if len(report.Operations["postRefresh"]) != 0 || !strings.Contains(report.Operations["preRefresh"][0].Command, "cannot cache") || len(report.Operations["preStart"]) != 1 {
		t.Errorf("hooks after the update: %v", report.Operations)
	}
	s.taken()
	s.must("vdb", "delete", "v")
	if got := s.taken(); got != "pre-stop virtual.unconfigure virtual.cleanup post-stop" {
		t.Errorf("delete: %s", got)
	}
}

// TestExtendedStartStopHooksEndToEnd: with extendedStartStopHooks: true in
// plugin_config.yml, disable runs the stop hooks and enable the start
// hooks.
func TestExtendedStartStopHooksEndToEnd(t *testing.T) {
	s := newHookSession(t, true)
	params := `{"recordFile": "` + s.log + `"}`
	s.must("dsource", "link", "ds", "--source-config", "sc", "--params", params)
	snap := strings.TrimSpace(s.must("snapshot", "list", "ds", "-o", "json").stdout)
	var snaps []struct{ Reference string }
	if err := json.Unmarshal([]byte(snap), &snaps); err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots: %v %s", err, snap)
	}
	s.must(append([]string{"vdb", "provision", "v", "--snapshot", snaps[0].Reference, "--environment", "here", "--params", params}, s.hookFlags("pre-start", "post-start", "pre-stop", "post-stop")...)...)
	s.taken()
	s.must("vdb", "disable", "v")
	if got := s.taken(); got != "pre-stop virtual.unconfigure post-stop" {
		t.Errorf("disable: %s", got)
	}
	s.must("vdb", "enable", "v")
	if got := s.taken(); got != "virtual.status pre-start virtual.mount_specification virtual.reconfigure post-start" {
		t.Errorf("enable: %s", got)
	}
	// A failing pre-start stops the enable before the plugin's reconfigure.
	s.must("vdb", "disable", "v")
	s.must("vdb", "update", "v", "--hook", "pre-start=echo no; exit 2")
	s.taken()
	r := s.run("vdb", "enable", "v")
	if r.code != 1 || !strings.Contains(r.stderr, "The pre-start hook of VDB v failed on here: it exited with 2.") {
		t.Errorf("a failing pre-start on enable: exit %d\n%s", r.code, r.stderr)
	}
	if got := s.taken(); got != "virtual.status" {
		t.Errorf("enable with a failing pre-start: %s", got)
	}
}
