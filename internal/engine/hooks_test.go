package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
