//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// killMatrix is one engine of the kill matrix: its data directory, the
// HOME of its user (where testdata/plugins/killmatrix mounts and finds
// its control directory), and a client.
type killMatrix struct {
	t                 *testing.T
	e                 *engineProc
	root, data, home  string
	ctl, mounts       string
	rec               *recorder
	restarts, killsAt int
}

// dvp runs a dvp command against the engine and returns its result.
func (k *killMatrix) dvp(args ...string) result {
	k.t.Helper()
	return k.rec.run("", nil, append(args, "-e", k.e.url, "-u", "admin")...)
}

// must is dvp, which must succeed.
func (k *killMatrix) must(args ...string) result {
	k.t.Helper()
	r := k.dvp(args...)
	if r.code != 0 {
		k.t.Fatalf("dvp %s: exit %d\n%s\n%s\nengine:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr, k.e.out)
	}
	return r
}

// killIn starts a request (path, body) whose job reaches the plugin
// operation op, waits until the plugin waits in op's gate, kills the engine
// with SIGKILL, checks that no process of the job survived, and starts the
// engine again on the same data directory. It returns the job's reference.
func (k *killMatrix) killIn(op, path, body string) string {
	k.t.Helper()
	if err := os.WriteFile(filepath.Join(k.ctl, "block-"+op), nil, 0o644); err != nil {
		k.t.Fatal(err)
	}
	reached := filepath.Join(k.ctl, "reached-"+op)
	return k.killWhen(func() bool { return os.Remove(reached) == nil }, op, func(a *api) (int, []byte) { return a.post(path, body) })
}

// killWhen is killIn for a request that send makes, whose job's plugin
// process makes reached true when it waits in op.
func (k *killMatrix) killWhen(reached func() bool, op string, send func(a *api) (int, []byte)) string {
	k.t.Helper()
	code, b := send(k.e.api(k.t))
	var env struct {
		Job *string `json:"job"`
	}
	if code != 200 || json.Unmarshal(b, &env) != nil || env.Job == nil {
		k.t.Fatalf("request for %s: %d %s", op, code, b)
	}
	for i := 0; !reached(); i++ {
		if i > 3000 {
			k.t.Fatalf("the job never reached %s:\n%s", op, k.e.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(k.pluginProcesses()) == 0 {
		k.t.Fatalf("no process of the plugin while it waits in %s: the survivor check below would prove nothing", op)
	}
	k.e.kill()
	k.killsAt++
	// The kernel ends the sandboxes when their parent dies; wait for
	// that (bounded), then none may be left.
	for i := 0; len(k.pluginProcesses()) > 0 && i < 500; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if left := k.pluginProcesses(); len(left) > 0 {
		k.t.Errorf("killed in %s: processes outlived the engine: %v", op, left)
	}
	k.restart()
	return *env.Job
}

func (k *killMatrix) restart() {
	k.e = startEngineHome(k.t, k.data, k.home, adminPassword)
	k.restarts++
}

// pluginProcesses lists the live processes of the plugin: its gate's
// shell (the marker, with the HOME of this test's engine, which the
// plugin's commands inherit: the kill matrix of another checkout, running
// at the same time on this machine, has gates of its own), the plugin
// executable and the sandboxes (their command lines name the data
// directory).
func (k *killMatrix) pluginProcesses() []string {
	return liveProcesses(func(pid string, cmdline []byte) bool {
		return bytes.Contains(cmdline, []byte(k.data+"/")) || bytes.Contains(cmdline, []byte("killmatrix-gate")) && homeIs(pid, k.home)
	})
}

// job returns the state and the last event of a job.
func (k *killMatrix) job(ref string) (state, last string) {
	k.t.Helper()
	code, b := k.e.api(k.t).do("GET", "delphix/job/"+ref, "application/json", nil)
	var env struct {
		Result struct {
			JobState string `json:"jobState"`
			Events   []struct {
				Details string `json:"messageDetails"`
			} `json:"events"`
		} `json:"result"`
	}
	if code != 200 || json.Unmarshal(b, &env) != nil {
		k.t.Fatalf("job %s: %d %s", ref, code, b)
	}
	if n := len(env.Result.Events); n > 0 {
		last = env.Result.Events[n-1].Details
	}
	return env.Result.JobState, last
}

// container returns a dSource or VDB by name (found false when gone).
func (k *killMatrix) container(name string) (engineapi.Container, bool) {
	k.t.Helper()
	code, b := k.e.api(k.t).do("GET", "delphix/database/"+name, "application/json", nil)
	var env struct {
		Result engineapi.Container `json:"result"`
	}
	if code == 404 {
		return env.Result, false
	}
	if code != 200 || json.Unmarshal(b, &env) != nil {
		k.t.Fatalf("container %s: %d %s", name, code, b)
	}
	return env.Result, true
}

func (k *killMatrix) list(path string, v any) {
	k.t.Helper()
	code, b := k.e.api(k.t).do("GET", path, "application/json", nil)
	env := struct {
		Result any `json:"result"`
	}{Result: v}
	if code != 200 || json.Unmarshal(b, &env) != nil {
		k.t.Fatalf("%s: %d %s", path, code, b)
	}
}

// interrupted checks that the job was ended FAILED with a last event
// saying so and the container is marked interrupted by it with the
// runtime status runtime ("" when the container must not be marked).
func (k *killMatrix) interrupted(what, jobRef, name, operation, runtime string) engineapi.Container {
	k.t.Helper()
	state, last := k.job(jobRef)
	if state != "FAILED" || !strings.Contains(last, "The engine stopped") {
		k.t.Errorf("%s: job %s is %s, last event %q", what, jobRef, state, last)
	}
	c, ok := k.container(name)
	if !ok {
		k.t.Fatalf("%s: %s is gone", what, name)
	}
	if runtime == "" {
		if c.Interrupted != nil || c.Pending != "" {
			k.t.Errorf("%s: %s is marked %+v (pending %q): nothing of it changed", what, name, c.Interrupted, c.Pending)
		}
		return c
	}
	if c.Interrupted == nil || c.Interrupted.Job != jobRef || c.Interrupted.Operation != operation || c.Runtime != runtime || c.Pending != "" ||
		!strings.Contains(c.Interrupted.Details, "The engine stopped during "+jobRef) || c.Interrupted.Action == "" {
		k.t.Errorf("%s: %s is %s, interrupted %+v, pending %q; want %s by %s (%s)", what, name, c.Runtime, c.Interrupted, c.Pending, runtime, jobRef, operation)
	}
	return c
}

// environment returns an environment by name.
func (k *killMatrix) environment(name string) engineapi.Environment {
	k.t.Helper()
	code, b := k.e.api(k.t).do("GET", "delphix/environment/"+name, "application/json", nil)
	var env struct {
		Result engineapi.Environment `json:"result"`
	}
	if code != 200 || json.Unmarshal(b, &env) != nil {
		k.t.Fatalf("environment %s: %d %s", name, code, b)
	}
	return env.Result
}

// environmentInterrupted checks that the job was ended FAILED saying so
// and the environment is marked interrupted by it.
func (k *killMatrix) environmentInterrupted(what, jobRef, name, operation string) {
	k.t.Helper()
	if state, last := k.job(jobRef); state != "FAILED" || !strings.Contains(last, "The engine stopped during "+jobRef) {
		k.t.Errorf("%s: job %s is %s, last event %q", what, jobRef, state, last)
	}
	env := k.environment(name)
	if in := env.Interrupted; in == nil || in.Job != jobRef || in.Operation != operation || env.Pending != "" ||
		!strings.Contains(in.Details, "its discovery did not finish") || !strings.Contains(in.Action, "dvp environment refresh "+name) {
		k.t.Errorf("%s: %s is interrupted %+v, pending %q", what, name, env.Interrupted, env.Pending)
	}
}

// noOrphans checks that the storage and snapshot directories are those of
// the engine's objects, that every snapshot has its data, and that every
// mount link is that of a container.
func (k *killMatrix) noOrphans(when string) {
	k.t.Helper()
	var cs []engineapi.Container
	var snaps []engineapi.Snapshot
	k.list("delphix/database", &cs)
	k.list("delphix/snapshot", &snaps)
	want := map[string][]string{"storage": {}, "snapshots": {}}
	storages := map[string]bool{}
	for _, c := range cs {
		want["storage"] = append(want["storage"], c.Reference)
		storages[c.Storage] = true
	}
	for _, s := range snaps {
		want["snapshots"] = append(want["snapshots"], s.Reference)
		if _, err := os.Stat(s.Dir); err != nil {
			k.t.Errorf("%s: snapshot %s has no data: %v", when, s.Reference, err)
		}
	}
	for dir, refs := range want {
		var got []string
		ents, _ := os.ReadDir(filepath.Join(k.data, dir))
		for _, e := range ents {
			got = append(got, e.Name())
		}
		sort.Strings(got)
		sort.Strings(refs)
		if strings.Join(got, " ") != strings.Join(refs, " ") {
			k.t.Errorf("%s: %s/ holds %v, the engine's objects are %v", when, dir, got, refs)
		}
	}
	// Extracted executables only of installed builds (an upgrade removes
	// the one it replaces).
	installed := map[string]bool{}
	for _, tk := range k.e.api(k.t).toolkits() {
		installed[tk.SourceCodeSha256] = true
	}
	bins, _ := os.ReadDir(filepath.Join(k.data, "plugin-bin"))
	for _, b := range bins {
		if !installed[b.Name()] {
			k.t.Errorf("%s: plugin-bin/%s is no installed build's", when, b.Name())
		}
	}
	ents, _ := os.ReadDir(k.mounts)
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(k.mounts, e.Name()))
		if err != nil || !storages[target] {
			k.t.Errorf("%s: the mount %s (-> %q, %v) is no container's", when, e.Name(), target, err)
		}
	}
}

// TestKillMatrix kills the engine (SIGKILL) inside plugin operations of
// every container workflow — link, sync, provision, snapshot, rollback,
// refresh, stop, start, delete of a VDB and of a dSource — in the
// discovery of an environment's add and refresh, and in the migration of
// an upgrade, with
// testdata/plugins/killmatrix, whose operations wait on a file at the
// chosen one so that the kill lands there. After each restart: the job is
// FAILED and says why, the container is marked interrupted (or unchanged,
// when the stop changed nothing of it), no storage, snapshot or mount is
// left that no object owns, and no process of the plugin survived. Every
// object a stop left is then usable again or deletable: a VDB whose
// provisioning was cut off is deleted by dvp vdb delete (skipping the
// plugin's clean-up, and saying so), one whose clean-up fails by
// --force. An upgrade cut in its migration leaves the installed build and
// the objects as they were (more kills of uploads and upgrades are
// TestKillDuringUpload's).
func TestKillMatrix(t *testing.T) {
	root, err := os.MkdirTemp("", "dvp-killmatrix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	k := &killMatrix{t: t, root: root, data: filepath.Join(root, "data"), home: filepath.Join(root, "home")}
	k.ctl, k.mounts = filepath.Join(k.home, "killctl"), filepath.Join(k.home, "km-mounts")
	for _, d := range []string{k.ctl, filepath.Join(root, "client")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	k.rec = &recorder{t: t, home: filepath.Join(root, "client"), env: append([]string{"DVP_PASSWORD=" + adminPassword}, goCacheEnv(t)...)}
	k.restart()
	project := filepath.Join(root, "plugin")
	if err := os.CopyFS(project, os.DirFS(filepath.Join("..", "..", "..", "testdata", "plugins", "killmatrix"))); err != nil {
		t.Fatal(err)
	}
	artifactPath := filepath.Join(root, "artifact.json")
	if r := k.rec.run("", nil, "build", "-c", filepath.Join(project, "plugin_config.yml"), "-a", artifactPath); r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.stderr)
	}
	k.must("upload", "-a", artifactPath, "--wait")
	k.must("environment", "add", "here", "--local")

	// environment add and refresh: cut in discovery (the environment
	// checked, its discovery not done): marked interrupted, until a
	// refresh completes.
	envJob := k.killIn("discovery.repository", "delphix/environment", `{"name": "there", "hostType": "local"}`)
	k.environmentInterrupted("environment add", envJob, "there", "ENVIRONMENT_CREATE")
	k.must("environment", "refresh", "there")
	if env := k.environment("there"); env.Interrupted != nil {
		t.Errorf("after a refresh: there is still interrupted: %+v", env.Interrupted)
	}
	envJob = k.killIn("discovery.repository", "delphix/environment/there/refresh", `{}`)
	k.environmentInterrupted("environment refresh", envJob, "there", "ENVIRONMENT_REFRESH")
	k.must("environment", "delete", "there")

	// link: cut in the first sync's pre-snapshot (mounted, no snapshot).
	job := k.killIn("linked.pre_snapshot", "delphix/database/link", `{"name": "ds-cut", "sourceConfig": "km-source", "parameters": {}}`)
	k.interrupted("link", job, "ds-cut", "DB_LINK", "FAILED")
	k.noOrphans("after the link")
	k.must("dsource", "delete", "ds-cut")
	if _, ok := k.container("ds-cut"); ok {
		t.Errorf("ds-cut was not deleted")
	}
	k.noOrphans("after deleting ds-cut")

	// sync: cut in post-snapshot (the snapshot copied, not stored).
	k.must("dsource", "link", "ds", "--source-config", "km-source", "--params", "{}")
	job = k.killIn("linked.post_snapshot", "delphix/database/ds/sync", `{}`)
	k.interrupted("sync", job, "ds", "", "")
	var snaps []engineapi.Snapshot
	k.list("delphix/snapshot?database=ds", &snaps)
	if len(snaps) != 1 {
		t.Errorf("ds has %d snapshots after a sync cut off: the one being taken was kept", len(snaps))
	}
	k.noOrphans("after the sync")
	k.must("dsource", "sync", "ds")

	// provision: cut before anything was mounted, and in configure
	// (mounted, never configured: the case that could not be deleted).
	for _, op := range []string{"virtual.mount_specification", "virtual.configure"} {
		job = k.killIn(op, "delphix/database/provision", `{"name": "v-cut", "snapshot": "`+snaps[0].Reference+`", "environment": "here", "parameters": {}}`)
		c := k.interrupted("provision, "+op, job, "v-cut", "DB_PROVISION", "FAILED")
		if c.SourceConfig != "" || !strings.Contains(c.Interrupted.Details, "never configured") {
			t.Errorf("provision, %s: %+v", op, c.Interrupted)
		}
		k.noOrphans("after the provision cut in " + op)
		if r := k.dvp("vdb", "start", "v-cut"); r.code == 0 || !strings.Contains(r.stderr, "never configured") {
			t.Errorf("start of a VDB never configured: exit %d\n%s", r.code, r.stderr)
		}
		r := k.must("vdb", "delete", "v-cut")
		if !strings.Contains(r.stderr, "Skipped virtual.unconfigure() and virtual.cleanup(): the VDB v-cut was never configured") {
			t.Errorf("the delete of v-cut does not say what it skipped:\n%s", r.stderr)
		}
		if _, ok := k.container("v-cut"); ok {
			t.Errorf("v-cut was not deleted")
		}
		k.noOrphans("after deleting v-cut")
	}

	// A VDB, then each of its operations cut off and run again.
	k.must("vdb", "provision", "v", "--snapshot", snaps[0].Reference, "--environment", "here", "--params", "{}")
	job = k.killIn("virtual.post_snapshot", "delphix/database/v/snapshot", `{}`)
	k.interrupted("snapshot", job, "v", "", "")
	k.list("delphix/snapshot?database=v", &snaps)
	if len(snaps) != 0 {
		t.Errorf("v has %d snapshots after a snapshot cut off", len(snaps))
	}
	k.noOrphans("after the snapshot")
	k.must("vdb", "snapshot", "v")
	for _, c := range []struct{ op, gate, action, runtime string }{
		{"rollback", "virtual.reconfigure", "DB_ROLLBACK", "ACTIVE"},
		{"refresh", "virtual.unconfigure", "DB_REFRESH", "ACTIVE"},
		{"stop", "virtual.stop", "DB_STOP", "INACTIVE"},
		{"start", "virtual.start", "DB_START", "ACTIVE"},
	} {
		job = k.killIn(c.gate, "delphix/database/v/"+c.op, `{}`)
		k.interrupted(c.op, job, "v", c.action, "UNKNOWN")
		k.noOrphans("after the " + c.op)
		k.must("vdb", c.op, "v")
		if v, _ := k.container("v"); v.Interrupted != nil || v.Runtime != c.runtime {
			t.Errorf("after %s again: %s, interrupted %+v", c.op, v.Runtime, v.Interrupted)
		}
	}

	// delete: cut in unconfigure; then the plugin's unconfigure fails, so
	// only --force deletes it.
	job = k.killIn("virtual.unconfigure", "delphix/database/v/delete", `{}`)
	k.interrupted("delete of the VDB", job, "v", "DB_DELETE", "FAILED")
	k.noOrphans("after the VDB's delete")
	os.WriteFile(filepath.Join(k.ctl, "fail-virtual.unconfigure"), nil, 0o644)
	if r := k.dvp("vdb", "delete", "v"); r.code == 0 || !strings.Contains(r.stderr, "virtual.unconfigure fails on purpose") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("delete with a failing unconfigure: exit %d\n%s", r.code, r.stderr)
	}
	r := k.must("vdb", "delete", "v", "--force")
	if !strings.Contains(r.stderr, "Skipped virtual.unconfigure() (--force): The plugin operation virtual.unconfigure() failed: virtual.unconfigure fails on purpose") {
		t.Errorf("the forced delete does not say what it skipped:\n%s", r.stderr)
	}
	os.Remove(filepath.Join(k.ctl, "fail-virtual.unconfigure"))
	if _, ok := k.container("v"); ok {
		t.Errorf("v was not deleted by --force")
	}
	k.noOrphans("after the forced delete")

	// upgrade: cut in a migration (build 2 adds one, of linked sources):
	// still build 1, ds as it was, no orphaned code blob; then the
	// upgrade again.
	dsBefore, _ := k.container("ds")
	build2 := filepath.Join(root, "plugin2")
	if err := os.CopyFS(build2, os.DirFS(filepath.Join("..", "..", "..", "testdata", "plugins", "killmatrix"))); err != nil {
		t.Fatal(err)
	}
	for file, edit := range map[string][2]string{
		filepath.Join(build2, "src", "plugin_runner.go"): {"var upgrade = []generated.Migration{}",
			`var upgrade = []generated.Migration{{Kind: generated.LinkedSourceMigration, ID: "2", Func: gatedMigration}}`},
		filepath.Join(build2, "plugin_config.yml"): {"buildNumber: 1.0.0", "buildNumber: 2.0.0"},
	} {
		b, err := os.ReadFile(file)
		if err != nil || !bytes.Contains(b, []byte(edit[0])) {
			t.Fatalf("%s has no %q (%v)", file, edit[0], err)
		}
		os.WriteFile(file, bytes.Replace(b, []byte(edit[0]), []byte(edit[1]), 1), 0o644)
	}
	artifact2 := filepath.Join(root, "artifact2.json")
	if r := k.rec.run("", nil, "build", "-c", filepath.Join(build2, "plugin_config.yml"), "-a", artifact2); r.code != 0 {
		t.Fatalf("build 2: exit %d\n%s", r.code, r.stderr)
	}
	doc, err := os.ReadFile(artifact2)
	if err != nil {
		t.Fatal(err)
	}
	// The migration blocks in an engine started with
	// LC_KILLMATRIX=block-upgrade, and logs that it has (the restart
	// after the kill is without it).
	k.e.stop()
	k.e = startEngineHome(t, k.data, k.home, adminPassword, "LC_KILLMATRIX=block-upgrade")
	k.restarts++
	reached := func() bool {
		logs, _ := filepath.Glob(filepath.Join(k.data, "plugin-logs", "*", "debug.log"))
		for _, p := range logs {
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte("killmatrix: reached-upgrade")) {
				return true
			}
		}
		return false
	}
	job = k.killWhen(reached, "the upgrade's migration", func(a *api) (int, []byte) { return a.uploadWith(a.token(), doc) })
	if state, last := k.job(job); state != "FAILED" || !strings.Contains(last, "The engine stopped") {
		t.Errorf("upgrade: job %s is %s, last event %q", job, state, last)
	}
	if builds := checkStore(t, k.data); builds["6b11a7e1-0000-4000-8000-6b11a7e10001"] != "1" {
		t.Errorf("after the upgrade cut off: builds %v", builds)
	}
	if ds, _ := k.container("ds"); string(ds.Parameters) != string(dsBefore.Parameters) {
		t.Errorf("the upgrade cut off changed ds: %s -> %s", dsBefore.Parameters, ds.Parameters)
	}
	k.noOrphans("after the upgrade cut off")
	k.must("upload", "-a", artifact2, "--wait")
	k.noOrphans("after the upgrade")
	if ds, _ := k.container("ds"); !strings.Contains(string(ds.Parameters), `"note":"migrated"`) {
		t.Errorf("after the upgrade: ds %s", ds.Parameters)
	}

	// delete of a dSource: cut in stop_staging (enabled and mounted).
	k.must("dsource", "enable", "ds")
	job = k.killIn("linked.stop_staging", "delphix/database/ds/delete", `{}`)
	k.interrupted("delete of the dSource", job, "ds", "DB_DELETE", "FAILED")
	k.must("dsource", "delete", "ds")

	var cs []engineapi.Container
	k.list("delphix/database", &cs)
	k.list("delphix/snapshot", &snaps)
	if len(cs) != 0 || len(snaps) != 0 {
		t.Errorf("left: %d containers, %d snapshots", len(cs), len(snaps))
	}
	k.noOrphans("at the end")
	if ents, _ := os.ReadDir(k.mounts); len(ents) != 0 {
		t.Errorf("mounts left: %v", ents)
	}
	k.e.stop()
	if left := k.pluginProcesses(); len(left) > 0 {
		t.Errorf("processes left at the end: %v", left)
	}
	t.Logf("%d kills inside plugin operations, %d engine starts", k.killsAt, k.restarts)
}
