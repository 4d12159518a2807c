package engine

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// stagedBuild is the staged test plugin as build n with the given
// migration ids; looseLinked lets its dSource parameters hold more than
// mountLocation (what its linked_source migration adds), and its source
// config declare the credentials its source_config migration makes.
func stagedBuild(t *testing.T, n string, ids []string, looseLinked bool) []byte {
	return stagedArtifactWith(t, func(a *artifact.Artifact) {
		a.BuildNumber = n
		a.Manifest.MigrationIDList = ids
		if looseLinked {
			a.LinkedSourceDefinition.Parameters = json.RawMessage(`{"type": "object", "required": ["mountLocation"], "properties": {"mountLocation": {"type": "string", "format": "unixpath"}, "bashError": {"type": "string"}}}`)
			a.DiscoveryDefinition.SourceConfigSchema = json.RawMessage(`{"type": "object", "required": ["path"], "properties": {"path": {"type": "string", "format": "unixpath"},
			"credentials": {"$ref": "https://delphix.com/platform/api#/definitions/passwordCredentialsSupplier"}}}`)
		}
	})
}

// TestUpgradeMigratesStoredObjects: build 1 has a repository, a source
// config, a linked dSource with snapshots and a VDB. Build 2 adds
// migrations whose linked_source result its own schema refuses: the
// upgrade fails naming the object and the property, and nothing changes
// (still build 1, objects as they were). Build 3 accepts it: the upgrade
// runs every new migration on every object (repository trail in id order,
// the source config's password turned into a credentials supplier by
// upgrade_password, the linked source's forbidden run_bash reported as
// not_allowed), stores the results with the build, and the plugin syncs
// the migrated dSource. Build 4 adds no migration: objects untouched.
func TestUpgradeMigratesStoredObjects(t *testing.T) {
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(stagedBuild(t, "1", nil, false)); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	tmp := t.TempDir()
	repo, sc := c.localSource(tmp, map[string]any{"password": "Migrate-Me-pw-4711", "user": "dbuser"})
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": sc,
		"parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt", "ds")}}))
	snap := c.list("delphix/snapshot")[0]["reference"].(string)
	c.mustComplete("provision", c.call("POST", "delphix/database/provision", map[string]any{"name": "vdb", "snapshot": snap, "environment": "here",
		"parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt", "vdb")}}))
	before := map[string]string{}
	for _, p := range []string{"delphix/repository/" + repo, "delphix/sourceconfig/" + sc, "delphix/database/ds", "delphix/database/vdb", "delphix/snapshot/" + snap} {
		before[p] = string(c.call("GET", p, nil).Result)
	}
	ids := []string{"2019.4.1", "2019.10.4", "2020.1", "2021.1.1", "2022.2.2"}

	// Build 2: the migrated linked source does not fit build 2's schema.
	state, events := c.runJob(c.upload(stagedBuild(t, "2", ids, false)))
	all := strings.Join(events, "\n")
	if state != "FAILED" || !strings.Contains(all, "linked_source object(s) do not match the new build's linkedSourceDefinition") ||
		!strings.Contains(all, "APPDATA_CONTAINER-") || !strings.Contains(all, "bashError") {
		t.Fatalf("build 2: %s\n%s", state, all)
	}
	if tk := c.toolkits()[0]; tk["buildNumber"] != "1" {
		t.Errorf("after the failed upgrade: build %v", tk["buildNumber"])
	}
	for p, want := range before {
		if got := string(c.call("GET", p, nil).Result); got != want {
			t.Errorf("%s changed by a failed upgrade:\n%s\n%s", p, want, got)
		}
	}

	// Build 3: migrated and installed together.
	events = c.mustComplete("upgrade to 3", c.upload(stagedBuild(t, "3", ids, true)))
	if all := strings.Join(events, "\n"); !strings.Contains(all, "Ran the new migration(s) 2019.4.1, 2019.10.4, 2020.1, 2021.1.1, 2022.2.2 on the plugin's stored objects: 1 repository, 3 source_config, 1 linked_source, 1 virtual_source, 1 snapshot.") {
		t.Errorf("events:\n%s", all)
	}
	var r engineapi.Repository
	json.Unmarshal(c.call("GET", "delphix/repository/"+repo, nil).Result, &r)
	if !strings.Contains(string(r.Parameters), `"trail":["2019.04.01","2019.10.04"]`) {
		t.Errorf("repository: %s", r.Parameters)
	}
	var s engineapi.SourceConfig
	json.Unmarshal(c.call("GET", "delphix/sourceconfig/"+sc, nil).Result, &s)
	if !strings.Contains(string(s.Parameters), `"credentials":{"password":"********","type":"NamedPasswordCredential","username":"dbuser"}`) {
		t.Errorf("source config: %s", s.Parameters)
	}
	var full engineapi.SourceConfig // the engine's own view: the secret sealed, not lost
	if ok, err := te.store.FindObject(t.Context(), store.KindSourceConfig, sc, &full); !ok || err != nil || !strings.Contains(string(full.Parameters), `"password":"Migrate-Me-pw-4711"`) {
		t.Errorf("engine view of the source config: %s %v", full.Parameters, err)
	}
	var ds engineapi.Container
	json.Unmarshal(c.call("GET", "delphix/database/ds", nil).Result, &ds)
	if !strings.Contains(string(ds.Parameters), `"bashError":"not_allowed"`) {
		t.Errorf("dSource: %s", ds.Parameters)
	}
	if msg := te.cfg.Redactor.Redact("pw Migrate-Me-pw-4711"); strings.Contains(msg, "Migrate-Me") {
		t.Errorf("the migrated password is not known to the redactor: %q", msg)
	}
	c.mustComplete("sync after the upgrade", c.call("POST", "delphix/database/ds/sync", map[string]any{}))

	// Build 4: no new migration, nothing to migrate.
	after := string(c.call("GET", "delphix/database/ds", nil).Result)
	events = c.mustComplete("upgrade to 4", c.upload(stagedBuild(t, "4", ids, true)))
	if strings.Contains(strings.Join(events, "\n"), "Ran the new migration") {
		t.Errorf("build 4 ran migrations:\n%s", strings.Join(events, "\n"))
	}
	if got := string(c.call("GET", "delphix/database/ds", nil).Result); got != after {
		t.Errorf("build 4 changed the dSource:\n%s\n%s", after, got)
	}
}
