package engine

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
)

// Mount safety on a local environment (docs/engine.md, "Mounts"), through
// the API with the staged test plugin: the rules refuse a path before
// anything is made there, and a mount that is no longer the engine's stops
// the operations. internal/engine/e2e/mounts_test.go has the cases that
// need root and other users.
func TestLocalMountSafety(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("local mounts need Linux")
	}
	t.Parallel()
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(stagedArtifact(t, enginetest.DefaultID, "staged", testPlugin(t, "staged"))); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	tmp := t.TempDir()
	os.Chmod(tmp, 0o755)
	c.mustComplete("environment add", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	src := filepath.Join(tmp, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "one.txt"), []byte("v1"), 0o644)
	scRef := resultString(t, c.call("POST", "delphix/sourceconfig", map[string]any{"environment": "here", "repository": "repo-hello-here", "parameters": map[string]any{"path": src}}))
	dsMount := filepath.Join(tmp, "mnt", "ds")
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": scRef,
		"parameters": map[string]any{"mountLocation": dsMount}}))
	snap := c.list("delphix/snapshot?database=ds")[0]["reference"].(string)

	provision := func(name, mount string) (string, string) {
		t.Helper()
		state, events := c.runJob(c.call("POST", "delphix/database/provision", map[string]any{"name": name, "snapshot": snap, "environment": "here",
			"parameters": map[string]any{"mountLocation": mount}}))
		return state, strings.Join(events, "\n")
	}
	refused := func(name, mount string, want ...string) {
		t.Helper()
		state, events := provision(name, mount)
		if state != "FAILED" {
			t.Fatalf("provision at %s: %s\n%s", mount, state, events)
		}
		for _, w := range want {
			if !strings.Contains(events, w) {
				t.Errorf("provision at %s: the events do not say %q:\n%s", mount, w, events)
			}
		}
		if strings.Contains(events, "event.storage.mounted") || strings.Contains(events, "Mounted the storage") {
			t.Errorf("provision at %s mounted something:\n%s", mount, events)
		}
	}

	// The dSource's staging path, and a path inside it: refused, naming the holder.
	refused("v1", dsMount, "it is the mount path of the dSource ds (APPDATA_CONTAINER-", "two dSources or VDBs never share a mount path", "delete the dSource ds first")
	refused("v1", filepath.Join(dsMount, "inner"), "it is inside, or holds, the mount path "+dsMount+" of the dSource ds")
	if target, err := os.Readlink(dsMount); err != nil || !strings.Contains(target, "/storage/APPDATA_CONTAINER-") {
		t.Errorf("the dSource's mount changed: %q %v", target, err)
	}
	// In the data directory (its tmp/, which the engine empties at start).
	refused("v1", filepath.Join(te.dir, "tmp", "vdb"), "inside the engine's directory "+te.dir)
	if _, err := os.Lstat(filepath.Join(te.dir, "tmp", "vdb")); err == nil {
		t.Error("a mount was made in the data directory")
	}
	refused("v1", "/etc/dvp-vdb", "inside the system directory /etc")
	// An existing directory (empty) and file: kept, never replaced.
	empty := filepath.Join(tmp, "empty")
	os.Mkdir(empty, 0o755)
	refused("v1", empty, "it is a directory the engine did not make", "never replaces")
	if fi, err := os.Lstat(empty); err != nil || !fi.IsDir() {
		t.Errorf("the existing directory is gone: %v", err)
	}
	// A parent others can write.
	open := filepath.Join(tmp, "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o777)
	refused("v1", filepath.Join(open, "vdb"), "can be written by other users (mode 0777)")

	// A good path; two VDBs never share it.
	vMount := filepath.Join(tmp, "mnt", "vdb1")
	if state, events := provision("vdb1", vMount); state != "COMPLETED" {
		t.Fatalf("provision: %s\n%s", state, events)
	}
	refused("vdb2", vMount, "it is the mount path of the VDB vdb1")
	if n := len(c.list("delphix/database")); n != 2 {
		t.Errorf("%d containers; the refused provisions left some", n)
	}

	// The dSource's mount swapped for a link elsewhere: the next
	// operations fail before the plugin runs, nothing is written there.
	victim := filepath.Join(tmp, "victim")
	os.Mkdir(victim, 0o755)
	os.Remove(dsMount)
	os.Symlink(victim, dsMount)
	for _, op := range []string{"status", "sync"} {
		state, events := c.runJob(c.call("POST", "delphix/database/ds/"+op, map[string]any{}))
		all := strings.Join(events, "\n")
		if state != "FAILED" || !strings.Contains(all, "not to this container's storage") {
			t.Errorf("%s after the swap: %s\n%s", op, state, all)
		}
	}
	if entries, _ := os.ReadDir(victim); len(entries) != 0 {
		t.Errorf("the engine or the plugin wrote where the swapped link points: %v", entries)
	}
	if target, _ := os.Readlink(dsMount); target != victim {
		t.Errorf("the swapped link was changed: %s", target)
	}
	// Removed by its owner: the sync mounts again.
	os.Remove(dsMount)
	c.mustComplete("sync after the swap is undone", c.call("POST", "delphix/database/ds/sync", map[string]any{}))
	if b, err := os.ReadFile(filepath.Join(dsMount, "one.txt")); err != nil || string(b) != "v1" {
		t.Errorf("the mount after the sync: %q %v", b, err)
	}

	// The VDB's mount removed outside the engine: status fails, delete works.
	os.Remove(vMount)
	if state, events := c.runJob(c.call("POST", "delphix/database/vdb1/status", nil)); state != "FAILED" || !strings.Contains(strings.Join(events, "\n"), "is gone") {
		t.Errorf("status without the mount: %s\n%s", state, strings.Join(events, "\n"))
	}
	c.mustComplete("delete vdb1", c.call("POST", "delphix/database/vdb1/delete", nil))
	c.mustComplete("delete ds", c.call("POST", "delphix/database/ds/delete", nil))
	if _, err := os.Lstat(dsMount); !os.IsNotExist(err) {
		t.Errorf("the dSource's mount is left: %v", err)
	}
}
