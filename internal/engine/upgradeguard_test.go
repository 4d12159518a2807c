package engine

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
)

// TestUpgradeGuardRefusesSchemasStoredObjectsDoNotMatch: build 1 has a
// linked dSource (with snapshots) and a VDB. An upload of the same build
// number whose linkedSourceDefinition adds a required property, without a
// migration, is refused at once naming the dSource and the JSON pointer;
// so is a newer build that also tightens the snapshot definition (both
// objects named). Nothing changed: same artifact installed, same objects,
// and the installed build still syncs the dSource. A compatible upload
// (the new property optional) is accepted.
func TestUpgradeGuardRefusesSchemasStoredObjectsDoNotMatch(t *testing.T) {
	t.Parallel()
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(stagedBuild(t, "1", nil, false)); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	tmp := t.TempDir()
	_, sc := c.localSource(tmp, nil)
	link := c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": sc,
		"parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt", "ds")}})
	ds := resultString(t, link)
	c.mustComplete("link", link)
	snap := c.list("delphix/snapshot")[0]["reference"].(string)
	c.mustComplete("provision", c.call("POST", "delphix/database/provision", map[string]any{"name": "vdb", "snapshot": snap, "environment": "here",
		"parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt", "vdb")}}))

	before := map[string]string{}
	for _, p := range []string{"delphix/toolkit", "delphix/database", "delphix/snapshot", "delphix/sourceconfig", "delphix/repository"} {
		before[p] = string(c.call("GET", p, nil).Result)
	}
	requireRetention := func(a *artifact.Artifact) {
		a.LinkedSourceDefinition.Parameters = json.RawMessage(`{"type": "object", "required": ["mountLocation", "retention"], "additionalProperties": false,
			"properties": {"mountLocation": {"type": "string", "format": "unixpath"}, "retention": {"type": "integer"}}}`)
	}

	// Same build number, no migration.
	env := c.upload(stagedArtifactWith(t, requireRetention))
	if env.code != 400 || env.Error.ID != "exception.toolkit.upgrade.refused" || env.Job != nil ||
		!strings.Contains(env.Error.Details, `1 stored object(s) do not match the new build's schemas`) ||
		!strings.Contains(env.Error.Details, `dSource `+ds+` ("ds") /parameters/retention: `) ||
		!strings.Contains(env.Error.Details, "linkedSourceDefinition") || !strings.Contains(env.Error.Action, "migration") {
		t.Errorf("same build, a new required property: %d %+v", env.code, env.Error)
	}

	t.Logf("refusal: %s\n%s", env.Error.Details, env.Error.Action)

	// A newer build that also requires a property of the snapshots'
	// metadata: every object is named.
	env = c.upload(stagedArtifactWith(t, func(a *artifact.Artifact) {
		requireRetention(a)
		a.BuildNumber = "2"
		a.SnapshotSchema = json.RawMessage(`{"type": "object", "required": ["checksum"], "properties": {"files": {"type": "integer"}, "resync": {"type": "boolean"}, "checksum": {"type": "string"}}}`)
	}))
	if env.code != 400 || env.Error.ID != "exception.toolkit.upgrade.refused" ||
		!strings.Contains(env.Error.Details, `dSource `+ds+` ("ds") /parameters/retention: `) ||
		!strings.Contains(env.Error.Details, `snapshot `+snap+` /metadata/checksum: `) ||
		!strings.Contains(env.Error.Details, "snapshotDefinition") {
		t.Errorf("build 2, new required properties: %d %+v", env.code, env.Error)
	}
	for p, want := range before {
		if got := string(c.call("GET", p, nil).Result); got != want {
			t.Errorf("%s changed by a refused upload:\n%s\n%s", p, want, got)
		}
	}
	// The installed build still works.
	c.mustComplete("sync after the refusals", c.call("POST", "delphix/database/ds/sync", map[string]any{}))

	// Compatible: the new property optional.
	c.mustComplete("compatible upgrade", c.upload(stagedArtifactWith(t, func(a *artifact.Artifact) {
		a.BuildNumber = "2"
		a.LinkedSourceDefinition.Parameters = json.RawMessage(`{"type": "object", "required": ["mountLocation"], "additionalProperties": false,
			"properties": {"mountLocation": {"type": "string", "format": "unixpath"}, "retention": {"type": "integer"}}}`)
	})))
	if tk := c.toolkits()[0]; tk["buildNumber"] != "2" {
		t.Errorf("after the compatible upgrade: build %v", tk["buildNumber"])
	}
}
