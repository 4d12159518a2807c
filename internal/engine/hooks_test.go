package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// hookFixture is an engine with the staged test plugin, a local
// environment "here" and a source config of a directory with one file.
type hookFixture struct {
	t   *testing.T
	c   *client
	tmp string
	sc  string
}

func newHookFixture(t *testing.T, artifactJSON []byte) *hookFixture {
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(artifactJSON); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	f := &hookFixture{t: t, c: c, tmp: t.TempDir()}
	c.mustComplete("environment add", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	src := filepath.Join(f.tmp, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "one.txt"), []byte("v1"), 0o644)
	f.sc = resultString(t, c.call("POST", "delphix/sourceconfig", map[string]any{"environment": "here", "repository": "repo-hello-here", "parameters": map[string]any{"path": src}}))
	return f
}

func (f *hookFixture) container(name string) engineapi.Container {
	f.t.Helper()
	var c engineapi.Container
	env := f.c.call("GET", "delphix/database/"+name, nil)
	if err := json.Unmarshal(env.Result, &c); err != nil {
		f.t.Fatalf("GET %s: %+v", name, env)
	}
	return c
}

func hook(cmds ...string) []map[string]any {
	out := []map[string]any{}
	for _, c := range cmds {
		out = append(out, map[string]any{"type": "RunCommandOnSourceOperation", "command": c})
	}
	return out
}

// TestHooksAreCheckedStoredAndUpdated: link and provision take hooks,
// checked (unknown hook points with "did you mean", hook points of the
// other container type, empty commands) before anything is created; an
// update replaces the hook points it names, removes those given an empty
// list and keeps the others.
func TestHooksAreCheckedStoredAndUpdated(t *testing.T) {
	t.Parallel()
	f := newHookFixture(t, stagedArtifact(t, enginetest.DefaultID, "staged", testPlugin(t, "staged")))
	c := f.c
	link := func(ops map[string]any) envelope {
		return c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": f.sc,
			"parameters": map[string]any{"mountLocation": filepath.Join(f.tmp, "mnt", "ds")}, "operations": ops})
	}
	for _, tc := range []struct {
		ops  map[string]any
		want []string
	}{
		{map[string]any{"preSnyc": hook("true")}, []string{`"preSnyc" is not a hook point; did you mean "preSync"?`, "preSync, postSync"}},
		{map[string]any{"preRefresh": hook("true")}, []string{`ds is a dSource: "preRefresh" is a hook of VDBs.`}},
		{map[string]any{"preSync": hook("  ")}, []string{"/operations/preSync/0: the hook's command is empty."}},
		{map[string]any{"preSync": []map[string]any{{"type": "RunMaskingJobOnSourceOperation", "command": "x"}}}, []string{`not "RunMaskingJobOnSourceOperation"`}},
		{map[string]any{"preSync": "true"}, []string{"operations.preSync is not a list"}},
	} {
		env := link(tc.ops)
		for _, w := range tc.want {
			if env.code != 400 || !strings.Contains(env.Error.Details+" "+env.Error.Action, w) {
				t.Errorf("link with %v: %d %+v; want %q", tc.ops, env.code, env.Error, w)
			}
		}
	}
	if n := len(c.list("delphix/database")); n != 0 {
		t.Fatalf("refused links created %d containers", n)
	}
	c.mustComplete("link", link(map[string]any{"type": "LinkedSourceOperations", "preSync": hook("true"), "postSync": hook("true", ":")}))
	ds := f.container("ds")
	if len(ds.Operations["preSync"]) != 1 || len(ds.Operations["postSync"]) != 2 || ds.Operations["postSync"][1].Command != ":" ||
		ds.Operations["postSync"][0].Type != engineapi.TypeHookOperation {
		t.Errorf("stored hooks: %+v", ds.Operations)
	}

	// Updates.
	if env := c.call("POST", "delphix/database/ds", map[string]any{"type": "AppDataContainer"}); env.code != 400 || !strings.Contains(env.Error.Details, "changes nothing") {
		t.Errorf("an empty update: %d %+v", env.code, env.Error)
	}
	if env := c.call("POST", "delphix/database/nosuch", map[string]any{"operations": map[string]any{"preSync": hook("true")}}); env.code != 404 {
		t.Errorf("an update of nothing: %d %+v", env.code, env.Error)
	}
	if env := c.call("POST", "delphix/database/ds", map[string]any{"type": "AppDataSnapshot", "operations": map[string]any{"preSync": hook("true")}}); env.code != 400 {
		t.Errorf("an update of the wrong type: %d %+v", env.code, env.Error)
	}
	if env := c.call("POST", "delphix/database/ds", map[string]any{"operations": map[string]any{"postStart": hook("true")}}); env.code != 400 || !strings.Contains(env.Error.Details, "hook of VDBs") {
		t.Errorf("a VDB hook on a dSource: %d %+v", env.code, env.Error)
	}
	events := c.mustComplete("update", c.call("POST", "delphix/database/ds", map[string]any{"type": "AppDataContainer",
		"operations": map[string]any{"preSync": hook("echo new"), "postSync": []any{}}}))
	all := strings.Join(events, "\n")
	for _, w := range []string{`dSource ds: the pre-sync hook runs "echo new".`, "dSource ds: removed the post-sync hook."} {
		if !strings.Contains(all, w) {
			t.Errorf("update events lack %q:\n%s", w, all)
		}
	}
	ds = f.container("ds")
	if len(ds.Operations) != 1 || ds.Operations["preSync"][0].Command != "echo new" {
		t.Errorf("hooks after the update: %+v", ds.Operations)
	}
	c.mustComplete("update", c.call("POST", "delphix/database/ds", map[string]any{"operations": map[string]any{"preSync": []any{}}}))
	if ds = f.container("ds"); ds.Operations != nil {
		t.Errorf("hooks after removing the last: %+v", ds.Operations)
	}

	// Provision takes VDB hooks only.
	snap := c.list("delphix/snapshot?database=ds")[0]["reference"].(string)
	prov := func(name string, ops map[string]any) envelope {
		return c.call("POST", "delphix/database/provision", map[string]any{"name": name, "snapshot": snap, "environment": "here",
			"parameters": map[string]any{"mountLocation": filepath.Join(f.tmp, "mnt", name)}, "operations": ops})
	}
	if env := prov("v", map[string]any{"preSync": hook("true")}); env.code != 400 || !strings.Contains(env.Error.Details, "hook of dSources") {
		t.Errorf("a dSource hook at provision: %d %+v", env.code, env.Error)
	}
	if env := prov("v", map[string]any{"configureClon": hook("true")}); env.code != 400 || !strings.Contains(env.Error.Details, `did you mean "configureClone"?`) {
		t.Errorf("a misspelt hook at provision: %d %+v", env.code, env.Error)
	}
	c.mustComplete("provision", prov("v", map[string]any{"postStart": hook("true")}))
	if v := f.container("v"); len(v.Operations["postStart"]) != 1 {
		t.Errorf("VDB hooks: %+v", v.Operations)
	}
}

// steps reduces a job's events to what ran: "op" for a plugin operation,
// "hook:name" for a hook command, "out:line" for a line it printed.
func steps(events []string) []string {
	var out []string
	for _, ev := range events {
		switch {
		case strings.HasPrefix(ev, "Running the plugin operation "):
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(ev, "Running the plugin operation "), "()."))
		case strings.HasPrefix(ev, "Running the ") && strings.Contains(ev, " hook on "):
			out = append(out, "hook:"+strings.TrimPrefix(ev[:strings.Index(ev, " hook on ")], "Running the "))
		case strings.HasPrefix(ev, "Running command "):
			i := strings.Index(ev, " of the ")
			out = append(out, "hook:"+strings.TrimSuffix(ev[i+len(" of the "):strings.Index(ev, " hook on ")], ""))
		}
	}
	return out
}

func allVDBHooks(rec string) map[string]any {
	ops := map[string]any{}
	for _, h := range engineapi.Hooks {
		if h.Only == engineapi.ContainerVDB {
			ops[h.Key] = hook("echo " + h.Name + " >> " + rec + "; echo said " + h.Name)
		}
	}
	return ops
}

// TestHooksRunAroundOperations runs every hook point of a dSource and a
// VDB with the staged test plugin and checks where each ran among the
// plugin's operations (docs/workflows.md, "Hooks"), that each ran on the
// environment (it appends to a file) and that its output is in the job's
// events; the plugin sets no extendedStartStopHooks, so enable and disable
// run no hooks.
func TestHooksRunAroundOperations(t *testing.T) {
	t.Parallel()
	f := newHookFixture(t, stagedArtifact(t, enginetest.DefaultID, "staged", testPlugin(t, "staged")))
	c := f.c
	rec := filepath.Join(f.tmp, "record")
	link := c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": f.sc,
		"parameters": map[string]any{"mountLocation": filepath.Join(f.tmp, "mnt", "ds")},
		"operations": map[string]any{"preSync": hook("echo pre-sync >> " + rec), "postSync": hook("echo post-sync >> "+rec, "echo second post-sync")}})
	events := c.mustComplete("link", link)
	// The size is measured once the sync is done (the staged plugin has
	// linked.source_size).
	want := []string{"linked.mount_specification", "hook:pre-sync", "linked.pre_snapshot", "linked.post_snapshot", "hook:post-sync", "hook:post-sync", "linked.source_size"}
	if got := steps(events); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("link (first sync):\n got %v\nwant %v\n%s", got, want, strings.Join(events, "\n"))
	}
	if !contains(events, "post-sync: second post-sync") {
		t.Errorf("the hook's output is not in the events:\n%s", strings.Join(events, "\n"))
	}
	snap := c.list("delphix/snapshot?database=ds")[0]["reference"].(string)
	events = c.mustComplete("provision", c.call("POST", "delphix/database/provision", map[string]any{"name": "v", "snapshot": snap, "environment": "here",
		"parameters": map[string]any{"mountLocation": filepath.Join(f.tmp, "mnt", "v")}, "operations": allVDBHooks(rec)}))
	if got := steps(events); strings.Join(got, " ") != "virtual.mount_specification virtual.configure hook:configure-clone" {
		t.Errorf("provision: %v", got)
	}
	if !contains(events, "configure-clone: said configure-clone") {
		t.Errorf("provision events:\n%s", strings.Join(events, "\n"))
	}
	for _, tc := range []struct{ op, want string }{
		{"refresh", "hook:pre-refresh virtual.unconfigure virtual.mount_specification virtual.configure hook:configure-clone hook:post-refresh"},
		{"snapshot", "hook:pre-snapshot virtual.post_snapshot hook:post-snapshot"},
		{"rollback", "hook:pre-rollback virtual.unconfigure virtual.mount_specification virtual.reconfigure hook:post-rollback"},
		{"stop", "hook:pre-stop hook:post-stop"},
		{"start", "hook:pre-start virtual.mount_specification hook:post-start"},
		{"disable", "virtual.unconfigure"},
		{"enable", "virtual.status virtual.mount_specification virtual.reconfigure"},
		{"status", "virtual.status"},
	} {
		events := c.mustComplete(tc.op, c.call("POST", "delphix/database/v/"+tc.op, nil))
		if got := strings.Join(steps(events), " "); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.op, got, tc.want)
		}
	}
	events = c.mustComplete("delete", c.call("POST", "delphix/database/v/delete", nil))
	if got := strings.Join(steps(events), " "); got != "hook:pre-stop virtual.unconfigure hook:post-stop" {
		t.Errorf("delete: %s", got)
	}
	// The hooks ran on the environment, in that order.
	wantRec := "pre-sync post-sync configure-clone pre-refresh configure-clone post-refresh pre-snapshot post-snapshot pre-rollback post-rollback pre-stop post-stop pre-start post-start pre-stop post-stop"
	if got := strings.Join(strings.Fields(readFile(t, rec)), " "); got != wantRec {
		t.Errorf("the record of the hooks:\n got %s\nwant %s", got, wantRec)
	}
}

func contains(events []string, s string) bool {
	for _, ev := range events {
		if strings.Contains(ev, s) {
			return true
		}
	}
	return false
}

// TestHookFailuresAndExtendedStartStopHooks: a hook that exits non-zero
// fails the job, naming the hook and quoting its output; a failing pre
// hook stops the operation before the plugin is called (the object stays
// as it was), post-sync and post-snapshot still run, other post hooks do
// not; a failing post hook leaves the operation done; a failing
// configure-clone removes the VDB being provisioned. With the plugin's
// extendedStartStopHooks, enable and disable run the start and stop
// hooks.
func TestHookFailuresAndExtendedStartStopHooks(t *testing.T) {
	t.Parallel()
	f := newHookFixture(t, stagedArtifactWith(t, func(a *artifact.Artifact) { a.ExtendedStartStopHooks = true }))
	c := f.c
	rec := filepath.Join(f.tmp, "record")
	failed := func(what string, env envelope, want ...string) []string {
		t.Helper()
		state, events := c.runJob(env)
		if state != "FAILED" {
			t.Fatalf("%s: job %s:\n%s", what, state, strings.Join(events, "\n"))
		}
		last := events[len(events)-1]
		for _, w := range want {
			if !strings.Contains(last, w) {
				t.Errorf("%s: the failure lacks %q:\n%s", what, w, last)
			}
		}
		return events
	}
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": f.sc,
		"parameters": map[string]any{"mountLocation": filepath.Join(f.tmp, "mnt", "ds")}}))
	c.mustComplete("update", c.call("POST", "delphix/database/ds", map[string]any{"operations": map[string]any{
		"preSync": hook("echo quiesce failed >&2; exit 3"), "postSync": hook("echo post-sync >> " + rec)}}))
	events := failed("sync", c.call("POST", "delphix/database/ds/sync", nil),
		"The pre-sync hook of dSource ds failed on here: it exited with 3.\nOutput:\nquiesce failed",
		"The sync did not run: ds is as it was.", "dvp dsource update ds --hook pre-sync=COMMAND, or --hook pre-sync= to remove it")
	if got := strings.Join(steps(events), " "); got != "linked.mount_specification hook:pre-sync hook:post-sync" {
		t.Errorf("a sync whose pre-sync failed: %s", got)
	}
	if n := len(c.list("delphix/snapshot?database=ds")); n != 1 {
		t.Errorf("%d snapshots after a failed sync", n)
	}
	snap := c.list("delphix/snapshot?database=ds")[0]["reference"].(string)

	// configure-clone fails: the VDB being provisioned is removed.
	prov := func(name string, ops map[string]any) envelope {
		return c.call("POST", "delphix/database/provision", map[string]any{"name": name, "snapshot": snap, "environment": "here",
			"parameters": map[string]any{"mountLocation": filepath.Join(f.tmp, "mnt", name)}, "operations": ops})
	}
	failed("provision", prov("bad", map[string]any{"configureClone": hook("echo mask failed; false")}),
		"The configure-clone hook of VDB bad failed on here: it exited with 1.\nOutput:\nmask failed", "The VDB bad is removed")
	if n := len(c.list("delphix/database")); n != 1 {
		t.Errorf("%d containers after a failed provision", n)
	}

	ops := allVDBHooks(rec)
	c.mustComplete("provision", prov("v", ops))
	before := f.container("v")
	os.WriteFile(rec, nil, 0o644)

	// Extended start/stop hooks: disable and enable run them.
	events = c.mustComplete("disable", c.call("POST", "delphix/database/v/disable", nil))
	if got := strings.Join(steps(events), " "); got != "hook:pre-stop virtual.unconfigure hook:post-stop" {
		t.Errorf("disable with extendedStartStopHooks: %s", got)
	}
	events = c.mustComplete("enable", c.call("POST", "delphix/database/v/enable", nil))
	if got := strings.Join(steps(events), " "); got != "virtual.status hook:pre-start virtual.mount_specification virtual.reconfigure hook:post-start" {
		t.Errorf("enable with extendedStartStopHooks: %s", got)
	}

	// pre-refresh fails: nothing else runs, the VDB is as it was.
	c.mustComplete("update", c.call("POST", "delphix/database/v", map[string]any{"operations": map[string]any{"preRefresh": hook("echo cannot cache; exit 7")}}))
	events = failed("refresh", c.call("POST", "delphix/database/v/refresh", nil), "The pre-refresh hook of VDB v failed on here: it exited with 7.\nOutput:\ncannot cache",
		"The refresh did not run: v is as it was.", "dvp vdb update v --hook pre-refresh=COMMAND")
	if got := strings.Join(steps(events), " "); got != "hook:pre-refresh" {
		t.Errorf("a refresh whose pre-refresh failed: %s", got)
	}
	if after := f.container("v"); after.ParentSnapshot != before.ParentSnapshot || after.Runtime != "ACTIVE" || !after.Enabled {
		t.Errorf("after a failed pre-refresh: %+v", after)
	}
	// pre-snapshot fails: post-snapshot still runs, no snapshot is taken.
	c.mustComplete("update", c.call("POST", "delphix/database/v", map[string]any{"operations": map[string]any{"preSnapshot": hook("exit 4")}}))
	events = failed("snapshot", c.call("POST", "delphix/database/v/snapshot", nil), "The pre-snapshot hook of VDB v failed on here: it exited with 4.")
	if got := strings.Join(steps(events), " "); got != "hook:pre-snapshot hook:post-snapshot" {
		t.Errorf("a snapshot whose pre-snapshot failed: %s", got)
	}
	if n := len(c.list("delphix/snapshot?database=v")); n != 0 {
		t.Errorf("%d snapshots after a failed pre-snapshot", n)
	}
	// post-snapshot fails: the snapshot is taken, the job fails.
	c.mustComplete("update", c.call("POST", "delphix/database/v", map[string]any{"operations": map[string]any{"preSnapshot": []any{}, "postSnapshot": hook("echo thaw failed; exit 5")}}))
	failed("snapshot", c.call("POST", "delphix/database/v/snapshot", nil), "The post-snapshot hook of VDB v failed on here: it exited with 5.\nOutput:\nthaw failed",
		"The snapshot itself completed.")
	if n := len(c.list("delphix/snapshot?database=v")); n != 1 {
		t.Errorf("%d snapshots after a failed post-snapshot", n)
	}
	// The second of two commands fails: the first ran, the message says which.
	c.mustComplete("update", c.call("POST", "delphix/database/v", map[string]any{"operations": map[string]any{"preStop": hook("echo first >> "+rec, "exit 9", "echo third >> "+rec)}}))
	failed("stop", c.call("POST", "delphix/database/v/stop", nil), "Command 2 of 3 of the pre-stop hook of VDB v failed on here: it exited with 9.")
	if got := strings.Join(strings.Fields(readFile(t, rec)), " "); got != "pre-stop post-stop pre-start post-start post-snapshot first" {
		t.Errorf("the record of the hooks: %s", got)
	}
}
