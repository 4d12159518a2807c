package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engine/store"
)

// An upgrade that replaces a build's code removes the old build's
// extracted executable at once (no job runs it), not at the next start;
// so does a delete of the plugin.
func TestUpgradeRemovesTheOldExecutable(t *testing.T) {
	t.Parallel()
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	bins := func() []string {
		ents, _ := os.ReadDir(filepath.Join(te.dir, store.PluginBinDir))
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}
	bin := testPlugin(t, "staged")
	if env := c.upload(stagedArtifact(t, enginetest.DefaultID, "staged", bin)); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	c.mustComplete("environment", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	old := bins()
	if len(old) != 1 {
		t.Fatalf("after discovery: plugin-bin holds %v, want one executable", old)
	}
	// Other code (a byte more after the ELF's end runs the same).
	if state, events := c.runJob(c.upload(stagedArtifact(t, enginetest.DefaultID, "staged", append(append([]byte(nil), bin...), 0)))); state != "COMPLETED" {
		t.Fatalf("upgrade: %s %v", state, events)
	}
	if got := bins(); len(got) != 0 {
		t.Errorf("after the upgrade plugin-bin holds %v, want the old build's %s removed", got, old[0])
	}
	c.mustComplete("refresh", c.call("POST", "delphix/environment/here/refresh", nil))
	now := bins()
	if len(now) != 1 || now[0] == old[0] {
		t.Fatalf("after a refresh with the new build: plugin-bin holds %v", now)
	}
	tk := c.toolkits()[0]["reference"].(string)
	if env := c.call("POST", "delphix/toolkit/"+tk+"/delete", nil); env.Type != "OKResult" {
		t.Fatalf("delete: %+v", env)
	}
	if got := bins(); len(got) != 0 {
		t.Errorf("after the plugin's delete plugin-bin holds %v", got)
	}
}
