//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
)

// Mount safety with a real engine process run as root and an unprivileged
// local user (docs/engine.md, "Mounts"): the environment's commands run as
// that user (--os-user), its mount parents are that user's, a link that
// user swaps in the middle of a sync stops the sync before anything is
// written where it points, a parent another user owns is refused, a
// shared path names its holder, and the tmp/ clean-up at start follows no
// link. internal/engine/mounts_test.go has the rules through the API in
// process; internal/engine/exec and internal/safefs the units.

// stagedPluginArtifact builds testdata/plugins/staged into an artifact
// with the schemas its operations expect.
func stagedPluginArtifact(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "staged"), "./testdata/plugins/staged")
	cmd.Dir = filepath.Join("..", "..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the staged test plugin: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "staged"))
	if err != nil {
		t.Fatal(err)
	}
	return writeArtifact(t, enginetest.Options{Name: "staged", Staged: true, Binary: bin, Mutate: func(a *artifact.Artifact) {
		a.DiscoveryDefinition.RepositorySchema = json.RawMessage(`{"type": "object", "properties": {"name": {"type": "string"}, "path": {"type": "string"}}}`)
		a.DiscoveryDefinition.RepositoryIdentityFields, a.DiscoveryDefinition.RepositoryNameField = []string{"name"}, "name"
		a.DiscoveryDefinition.SourceConfigSchema = json.RawMessage(`{"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}`)
		a.DiscoveryDefinition.SourceConfigIdentityFields, a.DiscoveryDefinition.SourceConfigNameField = []string{"path"}, "path"
		a.LinkedSourceDefinition.Parameters = json.RawMessage(`{"type": "object", "required": ["mountLocation"], "properties": {"mountLocation": {"type": "string"}}}`)
		a.VirtualSourceDefinition.Parameters = json.RawMessage(`{"type": "object", "required": ["mountLocation"], "properties": {"mountLocation": {"type": "string"}}}`)
		a.SnapshotSchema = json.RawMessage(`{"type": "object", "properties": {"files": {"type": "integer"}, "resync": {"type": "boolean"}, "policyDriven": {"type": "boolean"}, "user": {"type": "string"}}}`)
		a.SnapshotParametersDefinition.Schema = json.RawMessage(`{"type": "object", "properties": {"resync": {"type": "boolean"}}}`)
		m := &a.Manifest
		m.HasLinkedPreSnapshot, m.HasLinkedStartStaging, m.HasLinkedStopStaging, m.HasLinkedStatus = true, true, true, true
		m.HasVirtualUnconfigure, m.HasVirtualStatus = true, true
	}})
}

// testUser adds a local user with a home directory for the test.
func testUser(t *testing.T) *user.User {
	t.Helper()
	name := fmt.Sprintf("dvpmnt%d", os.Getpid()%100000)
	if out, err := exec.Command("useradd", "-m", "-s", "/bin/sh", name).CombinedOutput(); err != nil {
		t.Skipf("cannot add a test user: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", "-r", "-f", name).Run() })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func ownerOf(t *testing.T, p string) int {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

func TestMountSafetyWithAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the engine runs commands as another user")
	}
	u := testUser(t)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	root, err := os.MkdirTemp("", "dvp-mounts-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755) // the engine run as nobody below starts its copy of dvp from here
	data, home := filepath.Join(root, "data"), filepath.Join(root, "home")
	os.MkdirAll(home, 0o700)
	e := startEngineHome(t, data, home, adminPassword)
	eng := []string{"-e", e.url, "-u", "admin"}
	run := func(args ...string) result {
		t.Helper()
		return dvp(t, nil, append(args, eng...)...)
	}
	must := func(args ...string) result {
		t.Helper()
		r := run(args...)
		if r.code != 0 {
			t.Fatalf("dvp %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r
	}
	if r := upload(t, e, stagedPluginArtifact(t), "--wait"); r.code != 0 {
		t.Fatalf("upload: %s %s", r.stdout, r.stderr)
	}

	// The environment's commands run as the user; its scratch path is in
	// the user's home, and the user's.
	must("environment", "add", "mine", "--local", "--os-user", u.Username)
	var envs []map[string]any
	json.Unmarshal([]byte(must("environment", "list", "-o", "json").stdout), &envs)
	scratch := filepath.Join(u.HomeDir, ".dvp-scratch")
	if len(envs) != 1 || envs[0]["osUser"] != u.Username || envs[0]["user"] != u.Username || !strings.HasPrefix(envs[0]["scratchPath"].(string), scratch+"/") {
		t.Fatalf("environment: %v", envs)
	}
	if got := ownerOf(t, envs[0]["scratchPath"].(string)); got != uid {
		t.Errorf("the scratch path belongs to %d, not to the user", got)
	}
	// The engine's own environment (commands as root). Its OS user can
	// change while nothing runs on it: the scratch path moves to the new
	// user's home (made by that user), and back.
	must("environment", "add", "engine", "--local")
	scratchOf := func(name string) (string, string) {
		t.Helper()
		var env map[string]any
		var list []map[string]any
		json.Unmarshal([]byte(must("environment", "list", "-o", "json").stdout), &list)
		for _, e := range list {
			if e["name"] == name {
				env = e
			}
		}
		osUser, _ := env["osUser"].(string)
		return env["scratchPath"].(string), osUser
	}
	ownScratch, _ := scratchOf("engine")
	must("environment", "update", "engine", "--os-user", u.Username)
	if p, osUser := scratchOf("engine"); osUser != u.Username || !strings.HasPrefix(p, scratch+"/") || ownerOf(t, p) != uid {
		t.Errorf("after update --os-user %s: scratch path %s (os user %q)", u.Username, p, osUser)
	}
	must("environment", "update", "engine", "--os-user", "")
	if p, osUser := scratchOf("engine"); osUser != "" || p != ownScratch {
		t.Errorf("after update --os-user '': scratch path %s (os user %q), want %s", p, osUser, ownScratch)
	}

	src := filepath.Join(u.HomeDir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "one.txt"), []byte("v1"), 0o644)
	os.Chown(src, uid, gid)
	os.Chown(filepath.Join(src, "one.txt"), uid, gid)
	must("source-config", "add", "data", "--environment", "mine", "--repository", "repo-hello-mine", "--params", fmt.Sprintf(`{"path": %q}`, src))

	// A parent another (unprivileged) user owns is refused for the
	// engine's own environment: that user could swap the link.
	theirs := filepath.Join(u.HomeDir, "mnt")
	r := run("dsource", "link", "bad", "--source-config", "data", "--staging-environment", "engine", "--params", fmt.Sprintf(`{"mountLocation": %q}`, filepath.Join(theirs, "ds")))
	if r.code == 0 || !strings.Contains(r.stderr, u.HomeDir+" belongs to the user "+u.Username) {
		t.Errorf("a mount in another user's directory: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Lstat(theirs); err == nil {
		t.Errorf("%s was made in the other user's directory", theirs)
	}
	run("dsource", "delete", "bad", "--force")

	// Linked on the user's environment: the parent is made for the user,
	// the user's commands wrote the data (the files are the user's).
	mount := filepath.Join(theirs, "ds")
	must("dsource", "link", "ds", "--source-config", "data", "--params", fmt.Sprintf(`{"mountLocation": %q}`, mount))
	if got := ownerOf(t, theirs); got != uid {
		t.Errorf("the parent made belongs to %d, not to the user", got)
	}
	target, err := os.Readlink(mount)
	if err != nil || !strings.HasPrefix(target, data+"/storage/") || ownerOf(t, mount) != 0 {
		t.Fatalf("the mount: %q %v", target, err)
	}
	if got := ownerOf(t, filepath.Join(target, "one.txt")); got != uid {
		t.Errorf("the data was written by %d, not by the user", got)
	}

	// The OS user of an environment a dSource runs on stays.
	if r := run("environment", "update", "mine", "--os-user", ""); r.code == 0 || !strings.Contains(r.stderr, "The OS user of the environment \"mine\" cannot change: it is used by dSource ds (") {
		t.Errorf("update --os-user under a dSource: exit %d\n%s", r.code, r.stderr)
	}

	// Two containers never share a path: refused, naming the holder.
	snaps := must("snapshot", "list", "ds", "-o", "json").stdout
	var snapList []map[string]any
	json.Unmarshal([]byte(snaps), &snapList)
	if len(snapList) == 0 {
		t.Fatalf("no snapshot: %s", snaps)
	}
	snap := snapList[0]["reference"].(string)
	r = run("vdb", "provision", "vdb1", "--snapshot", snap, "--environment", "mine", "--params", fmt.Sprintf(`{"mountLocation": %q}`, mount))
	if r.code == 0 || !strings.Contains(r.stderr, "it is the mount path of the dSource ds (") {
		t.Errorf("a VDB on the dSource's staging path: exit %d\n%s", r.code, r.stderr)
	}

	// The user swaps the link in the middle of a sync (a pre-sync hook,
	// run as the user after the engine mounted): the plugin's copy does
	// not run, nothing is written where the link now points.
	victim := filepath.Join(root, "victim")
	os.Mkdir(victim, 0o755)
	os.Chown(victim, uid, gid)
	must("dsource", "update", "ds", "--hook", fmt.Sprintf("pre-sync=rm %s && ln -s %s %s", mount, victim, mount))
	r = run("dsource", "sync", "ds")
	if r.code == 0 || !strings.Contains(r.stderr, "no longer the engine's link to the storage") || !strings.Contains(r.stderr, "Did not run linked.pre_snapshot()") {
		t.Errorf("sync with the link swapped: exit %d\n%s", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(victim); len(entries) != 0 {
		t.Errorf("something was written where the swapped link points: %v", entries)
	}
	if got, _ := os.Readlink(mount); got != victim {
		t.Errorf("the swapped link was touched: %s", got)
	}
	must("dsource", "update", "ds", "--hook", "pre-sync=")
	os.Remove(mount)
	must("dsource", "sync", "ds")
	if got, _ := os.Readlink(mount); got != target {
		t.Errorf("the sync did not mount again: %s", got)
	}

	// An unprivileged engine cannot run commands as another user.
	must("dsource", "delete", "ds")
	e.stop()
	nobodyRoot := filepath.Join(root, "nobody")
	os.MkdirAll(filepath.Join(nobodyRoot, "home"), 0o755)
	os.Chown(nobodyRoot, 65534, 65534)
	os.Chown(filepath.Join(nobodyRoot, "home"), 65534, 65534)
	ne := startEngineAs(t, filepath.Join(nobodyRoot, "data"), filepath.Join(nobodyRoot, "home"), true)
	r = dvp(t, nil, "environment", "add", "x", "--local", "--os-user", u.Username, "-e", ne.url, "-u", "admin")
	if r.code == 0 || !strings.Contains(r.stderr, "run the engine as root to use another OS user") {
		t.Errorf("--os-user on an unprivileged engine: exit %d\n%s", r.code, r.stderr)
	}
	ne.stop()

	// The tmp/ clean-up at start follows no link: neither tmp/ itself
	// made a link to a directory with data, nor a link inside it.
	precious := filepath.Join(root, "precious")
	os.MkdirAll(filepath.Join(precious, "sub"), 0o755)
	os.WriteFile(filepath.Join(precious, "sub", "data"), []byte("keep"), 0o644)
	tmp := filepath.Join(data, "tmp")
	os.RemoveAll(tmp)
	os.Symlink(precious, tmp)
	e = startEngineHome(t, data, home, adminPassword)
	e.stop()
	os.Symlink(filepath.Join(precious, "sub"), filepath.Join(tmp, "link"))
	e = startEngineHome(t, data, home, adminPassword)
	defer e.stop()
	if b, err := os.ReadFile(filepath.Join(precious, "sub", "data")); err != nil || string(b) != "keep" {
		t.Errorf("the clean-up of tmp/ followed a link: %q %v", b, err)
	}
	if fi, err := os.Lstat(tmp); err != nil || !fi.IsDir() {
		t.Errorf("tmp/ is not a directory again: %v", err)
	}
}
