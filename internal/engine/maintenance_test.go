package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
)

// Source configs and environments can be corrected: updated and deleted,
// each refused, naming the dSources and VDBs concerned, when the change
// would orphan them.
func TestSourceConfigUpdateAndDelete(t *testing.T) {
	t.Parallel()
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(stagedArtifact(t, enginetest.DefaultID, "staged", testPlugin(t, "staged"))); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	tmp := t.TempDir()
	c.mustComplete("environment", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	repo := c.list("delphix/repository")[0]["reference"].(string)
	src, src2 := filepath.Join(tmp, "src"), filepath.Join(tmp, "src2")
	os.MkdirAll(src, 0o755)
	os.MkdirAll(src2, 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("a"), 0o644)
	sc := resultString(t, c.call("POST", "delphix/sourceconfig", map[string]any{"name": "data", "repository": repo, "parameters": map[string]any{"path": src}}))
	other := resultString(t, c.call("POST", "delphix/sourceconfig", map[string]any{"name": "other", "repository": repo, "parameters": map[string]any{"path": src2}}))

	// An update is validated against the schema first.
	if env := c.call("POST", "delphix/sourceconfig/data", map[string]any{"parameters": map[string]any{"path": 7}}); env.code != 400 ||
		env.Error.ID != "exception.validation.parameters" || !strings.Contains(env.Error.Details, "/path: ") {
		t.Errorf("an invalid update: %d %+v", env.code, env.Error)
	}
	// Unused: the identity may change, keeping name and reference; not to
	// another source config's.
	if env := c.call("POST", "delphix/sourceconfig/other", map[string]any{"parameters": map[string]any{"path": src}}); env.code != 409 ||
		!strings.Contains(env.Error.Details, `The source config "data" (`+sc+`) has that identity already`) {
		t.Errorf("an update to another's identity: %d %+v", env.code, env.Error)
	}
	moved := filepath.Join(tmp, "src3")
	if env := c.call("POST", "delphix/sourceconfig/other", map[string]any{"parameters": map[string]any{"path": moved}}); env.Type != "OKResult" {
		t.Fatalf("update: %+v", env)
	}
	var got struct {
		Reference, Name string
		Parameters      map[string]any
	}
	json.Unmarshal(c.call("GET", "delphix/sourceconfig/"+other, nil).Result, &got)
	if got.Reference != other || got.Name != "other" || got.Parameters["path"] != moved {
		t.Errorf("after the update: %+v", got)
	}

	// Linked: the identity may not change, other fields may; delete is
	// refused naming the dSource.
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": sc,
		"parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt")}}))
	env := c.call("POST", "delphix/sourceconfig/data", map[string]any{"parameters": map[string]any{"path": src2}})
	if env.code != 409 || !strings.Contains(env.Error.Details, `The identity of the source config "data" (path) cannot change: dSource ds is linked to it.`) ||
		!strings.Contains(env.Error.Action, "dvp dsource delete ds") {
		t.Errorf("an identity change of a linked source config: %d %+v", env.code, env.Error)
	}
	if env := c.call("POST", "delphix/sourceconfig/data", map[string]any{"parameters": map[string]any{"path": src}}); env.Type != "OKResult" {
		t.Errorf("an update that keeps the identity: %+v", env)
	}
	env = c.call("POST", "delphix/sourceconfig/data/delete", nil)
	if env.code != 409 || env.Error.Details != `The source config "data" is used by dSource ds.` || env.Error.Action != "Delete them first (dvp dsource delete ds)." {
		t.Errorf("deleting a linked source config: %d %+v", env.code, env.Error)
	}
	c.mustComplete("sync after the update", c.call("POST", "delphix/database/ds/sync", nil))

	// A local environment has no SSH settings to change.
	if env := c.call("POST", "delphix/environment/here", map[string]any{"port": 2222}); env.code != 400 || !strings.Contains(env.Error.Details, "is this host (--local)") {
		t.Errorf("updating a local environment: %d %+v", env.code, env.Error)
	}
	env = c.call("POST", "delphix/environment/here/delete", nil)
	if env.code != 409 || env.Error.Details != `The environment "here" is used by dSource ds.` {
		t.Errorf("deleting a used environment: %d %+v", env.code, env.Error)
	}
	// Nor the plugin: the dSource would be left with no plugin to run.
	tk := c.toolkits()[0]["reference"].(string)
	env = c.call("POST", "delphix/toolkit/"+tk+"/delete", nil)
	if env.code != 409 || env.Error.Details != `The plugin "staged" is used by dSource ds.` || env.Error.Action != "Delete them first (dvp dsource delete ds)." {
		t.Errorf("deleting a used plugin: %d %+v", env.code, env.Error)
	}

	// Once the dSource is gone the source config can go.
	c.mustComplete("delete ds", c.call("POST", "delphix/database/ds/delete", nil))
	if env := c.call("POST", "delphix/sourceconfig/data/delete", nil); env.Type != "OKResult" {
		t.Errorf("delete: %+v", env)
	}
	if env := c.call("GET", "delphix/sourceconfig/data", nil); env.code != 404 {
		t.Errorf("the deleted source config: %d %+v", env.code, env)
	}

	// The plugin: a source config a user added is the user's to delete
	// first; what the plugin discovered goes with it.
	env = c.call("POST", "delphix/toolkit/"+tk+"/delete", nil)
	if env.code != 409 || env.Error.Details != `The plugin "staged" is used by source config other.` || env.Error.Action != "Delete them first (dvp source-config delete other)." {
		t.Errorf("deleting a plugin with a source config: %d %+v", env.code, env.Error)
	}
	if env := c.call("POST", "delphix/sourceconfig/other/delete", nil); env.Type != "OKResult" {
		t.Errorf("delete: %+v", env)
	}
	if env := c.call("POST", "delphix/toolkit/"+tk+"/delete", nil); env.Type != "OKResult" {
		t.Fatalf("deleting the plugin: %+v", env)
	}
	if env := c.call("GET", "delphix/repository/"+repo, nil); env.code != 404 {
		t.Errorf("the deleted plugin's repository: %d %+v", env.code, env)
	}
	if rs := c.list("delphix/repository"); len(rs) != 0 {
		t.Errorf("repositories after the plugin's delete: %v", rs)
	}
}

// The formats the engine can check: a unixpath is absolute, a reference
// names an object of this engine of its referenceType; each problem with
// its JSON pointer, before anything is created.
func TestParameterFormatsAreChecked(t *testing.T) {
	t.Parallel()
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	doc := stagedArtifactWith(t, func(a *artifact.Artifact) {
		a.LinkedSourceDefinition.Parameters = json.RawMessage(`{"type": "object", "required": ["mountLocation"], "additionalProperties": false, "properties": {
			"mountLocation": {"type": "string", "format": "unixpath"},
			"extraMountRef": {"type": "string", "format": "reference", "referenceType": "UnixHostEnvironment"},
			"more": {"type": "array", "items": {"type": "object", "properties": {"dir": {"type": "string", "format": "unixpath"}}}}}}`)
	})
	if env := c.upload(doc); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	c.mustComplete("environment", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	repo := c.list("delphix/repository")[0]["reference"].(string)
	tmp := t.TempDir()
	sc := resultString(t, c.call("POST", "delphix/sourceconfig", map[string]any{"repository": repo, "parameters": map[string]any{"path": tmp}}))
	if env := c.call("POST", "delphix/sourceconfig", map[string]any{"repository": repo, "parameters": map[string]any{"path": "relative/dir"}}); env.code != 400 ||
		!strings.Contains(env.Error.Details, `/path: "relative/dir" is not an absolute Unix path (format unixpath)`) {
		t.Errorf("a relative source config path: %d %+v", env.code, env.Error)
	}
	for _, c2 := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"mountLocation": "relative/dir"}, `/mountLocation: "relative/dir" is not an absolute Unix path (format unixpath): give a path that starts with /`},
		{map[string]any{"mountLocation": "/m", "more": []any{map[string]any{"dir": "/ok"}, map[string]any{"dir": "x"}}}, `/more/1/dir: "x" is not an absolute Unix path`},
		{map[string]any{"mountLocation": "/m", "extraMountRef": "here"}, `/extraMountRef: "here" is not a reference (format reference)`},
		{map[string]any{"mountLocation": "/m", "extraMountRef": sc}, `/extraMountRef: "` + sc + `" is not a reference of type UnixHostEnvironment (referenceType)`},
		{map[string]any{"mountLocation": "/m", "extraMountRef": "UNIX_HOST_ENVIRONMENT-99"}, `/extraMountRef: the environment UNIX_HOST_ENVIRONMENT-99 does not exist on this engine`},
	} {
		env := c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": sc, "parameters": c2.params})
		if env.code != 400 || env.Error.ID != "exception.validation.parameters" || !strings.Contains(env.Error.Details, c2.want) {
			t.Errorf("link with %v: %d %+v\nwant %s", c2.params, env.code, env.Error, c2.want)
		}
	}
	if n := len(c.list("delphix/database")); n != 0 {
		t.Fatalf("refused links created %d dSources", n)
	}
	// A reference of an existing environment passes: the link starts.
	env := c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": sc,
		"parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt"), "extraMountRef": "UNIX_HOST_ENVIRONMENT-1"}})
	if env.Type != "OKResult" || env.Job == nil {
		t.Fatalf("a link with valid formats: %d %+v", env.code, env)
	}
	c.runJob(env)
}

// manualDiscovery: false refuses source configs added by hand.
func TestManualDiscoveryFalseRefusesManualSourceConfigs(t *testing.T) {
	t.Parallel()
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(stagedArtifactWith(t, func(a *artifact.Artifact) { a.DiscoveryDefinition.ManualSourceConfigDiscovery = false })); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	c.mustComplete("environment", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	repo := c.list("delphix/repository")[0]["reference"].(string)
	discovered := len(c.list("delphix/sourceconfig"))
	env := c.call("POST", "delphix/sourceconfig", map[string]any{"repository": repo, "parameters": map[string]any{"path": t.TempDir()}})
	if env.code != 409 || !strings.Contains(env.Error.Details, `The plugin "staged" does not take source configs added by hand (manualDiscovery: false in its plugin_config.yml)`) ||
		!strings.Contains(env.Error.Action, "dvp environment refresh here") {
		t.Errorf("a manual source config: %d %+v", env.code, env.Error)
	}
	if n := len(c.list("delphix/sourceconfig")); n != discovered {
		t.Errorf("%d source configs after the refusal, %d before", n, discovered)
	}
}

// Deleting an environment removes its scratch path on its host (what the
// plugin's commands left there, links not followed) and the engine's
// directory above it once empty.
func TestEnvironmentDeleteRemovesItsScratchPath(t *testing.T) {
	t.Parallel()
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	c.mustComplete("environment", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	var env struct{ ScratchPath string }
	json.Unmarshal(c.call("GET", "delphix/environment/here", nil).Result, &env)
	if st, err := os.Stat(env.ScratchPath); err != nil || !st.IsDir() {
		t.Fatalf("the scratch path %q after the add: %v", env.ScratchPath, err)
	}
	// Something a plugin left, and a link to a file outside that must stay.
	outside := filepath.Join(t.TempDir(), "keep")
	os.WriteFile(outside, []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(env.ScratchPath, "dlpx_staged_mounts", "x"), 0o755)
	os.Symlink(outside, filepath.Join(env.ScratchPath, "dlpx_staged_mounts", "link"))
	if env := c.call("POST", "delphix/environment/here/delete", nil); env.Type != "OKResult" {
		t.Fatalf("delete: %+v", env)
	}
	if _, err := os.Lstat(env.ScratchPath); !os.IsNotExist(err) {
		t.Errorf("the scratch path %s after the delete: %v", env.ScratchPath, err)
	}
	if _, err := os.Lstat(filepath.Dir(env.ScratchPath)); !os.IsNotExist(err) {
		t.Errorf("the engine's scratch directory %s after its last environment's delete: %v", filepath.Dir(env.ScratchPath), err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("a file a link in the scratch path pointed to: %v", err)
	}
}
