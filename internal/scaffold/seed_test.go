package scaffold

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/codegen"
	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/internal/project"
	"github.com/dvpkit/dvp/internal/sdkcopy"
	"github.com/dvpkit/dvp/sdk/protocol"
)

var update = flag.Bool("update", false, "rewrite testdata/plugins/seed-rsync/src/generated")

var seedDir = filepath.Join("..", "..", "testdata", "plugins", "seed-rsync")

// The seed's generated package is what codegen makes of its schema.json.
func TestSeedGeneratedUpToDate(t *testing.T) {
	p := project.Load(filepath.Join(seedDir, ConfigFile))
	if !p.Valid() {
		t.Fatalf("the seed project is invalid: %v", p.Problems)
	}
	res, err := codegen.Generate(p.Schema.Definitions, codegen.Options{Package: GeneratedDir, SchemaFile: SchemaFile, PluginType: p.Config.PluginType})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(seedDir, SrcDir, GeneratedDir)
	if *update {
		if err := codegen.WriteDir(dir, res.Files); err != nil {
			t.Fatal(err)
		}
	}
	stale, err := codegen.Stale(dir, res.Files)
	if err != nil || stale {
		t.Fatalf("%s is stale (%v): run go test ./internal/scaffold -run TestSeedGeneratedUpToDate -update", dir, err)
	}
}

// copyTree copies a directory (regular files and directories only).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			if rel == ".dvp" {
				return fs.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// buildSeed copies the seed project, materialises the SDK into the copy
// and builds the plugin offline.
func buildSeed(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	copyTree(t, seedDir, root)
	if changed, err := sdkcopy.SyncSDK(root); err != nil || !changed {
		t.Fatalf("SyncSDK: %v %v", changed, err)
	}
	bin := filepath.Join(t.TempDir(), "seed-rsync")
	env := goEnv(t)
	src := filepath.Join(root, SrcDir)
	if out, err := goCmd(t, src, env, "build", "-trimpath", "-o", bin, "."); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := goCmd(t, src, env, "vet", "-trimpath", "./..."); err != nil {
		t.Fatalf("go vet: %v\n%s", err, out)
	}
	// The seed's own unit tests (sdk/plugintest) pass offline.
	if out, err := goCmd(t, src, env, "test", "-trimpath", "-count=1", "./..."); err != nil || !strings.Contains(out, "ok  \tmy-first-plugin") {
		t.Fatalf("go test: %v\n%s", err, out)
	}
	return bin
}

// rsh is an RSYNC_RSH that runs the "remote" command on this host for
// 127.0.0.1 and localhost, and fails like ssh for any other host.
const rsh = `#!/bin/sh
while [ $# -gt 0 ]; do
	case "$1" in
	-l|-p|-i|-o) shift 2 ;;
	-*) shift ;;
	*) break ;;
	esac
done
host=${1#*@}
shift
case "$host" in
127.0.0.1|localhost) exec sh -c "$*" ;;
*) echo "ssh: Could not resolve hostname $host: Name or service not known" >&2; exit 255 ;;
esac
`

func TestSeedRsyncThroughPluginhost(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the seed plugin")
	}
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Skip("rsync is not installed")
	}
	bin := buildSeed(t)
	checkManifestOps(t, bin, []string{
		"discovery.repository", "discovery.source_config", "linked.mount_specification", "linked.post_snapshot",
		"linked.pre_snapshot", "virtual.configure", "virtual.mount_specification", "virtual.post_snapshot", "virtual.reconfigure",
	})

	work := t.TempDir()
	script := filepath.Join(work, "rsh")
	if err := os.WriteFile(script, []byte(rsh), 0o755); err != nil {
		t.Fatal(err)
	}
	source := filepath.Join(work, "source", "data")
	os.MkdirAll(filepath.Join(source, "sub"), 0o755)
	os.WriteFile(filepath.Join(source, "a.txt"), []byte("alpha\n"), 0o644)
	os.WriteFile(filepath.Join(source, "sub", "b.txt"), []byte("beta\n"), 0o644)
	mount := filepath.Join(work, "mnt", "staged")
	os.MkdirAll(mount, 0o755)

	libs := &pluginhost.LocalLibraries{Dir: work, Env: append(os.Environ(), "RSYNC_RSH="+script)}
	h := newHost(t, bin, libs)

	var repos []map[string]any
	call(t, h, "discovery.repository", map[string]any{"source_connection": testConn}, &repos)
	if len(repos) != 1 || repos[0]["name"] != "Repository for our First Plugin" {
		t.Fatalf("repositories %v", repos)
	}
	var configs []map[string]any
	call(t, h, "discovery.source_config", map[string]any{"source_connection": testConn, "repository": repos[0]}, &configs)
	if len(configs) != 0 {
		t.Fatalf("source configs %v", configs)
	}

	stagedSource := func(addr string) map[string]any {
		return map[string]any{
			"guid": "LINKED-1", "source_connection": testConn, "staged_connection": testConn,
			"parameters":   map[string]any{"sourceAddress": addr, "username": "delphix", "mountLocation": mount},
			"staged_mount": map[string]any{"remote_environment": testEnv, "mount_path": mount},
		}
	}
	var ms struct {
		Mounts []struct {
			RemoteEnvironment struct{ Reference string } `json:"remote_environment"`
			MountPath         string                     `json:"mount_path"`
		} `json:"mounts"`
	}
	call(t, h, "linked.mount_specification", map[string]any{"staged_source": stagedSource("127.0.0.1"), "repository": repos[0]}, &ms)
	if len(ms.Mounts) != 1 || ms.Mounts[0].MountPath != mount || ms.Mounts[0].RemoteEnvironment.Reference != testEnv.Reference {
		t.Fatalf("linked mount specification %+v", ms)
	}

	sourceConfig := map[string]any{"name": "data", "path": source}
	in := map[string]any{"staged_source": stagedSource("127.0.0.1"), "repository": repos[0], "source_config": sourceConfig, "snapshot_parameters": map[string]any{}}
	if _, err := h.Call(testCtx(t), "linked.pre_snapshot", in); err != nil {
		t.Fatalf("pre-snapshot: %v", err)
	}
	for rel, want := range map[string]string{"data/a.txt": "alpha\n", "data/sub/b.txt": "beta\n"} {
		got, err := os.ReadFile(filepath.Join(mount, filepath.FromSlash(rel)))
		if err != nil || string(got) != want {
			t.Errorf("%s in the mount: %q, %v", rel, got, err)
		}
	}
	var snap map[string]any
	call(t, h, "linked.post_snapshot", map[string]any{"staged_source": stagedSource("127.0.0.1"), "repository": repos[0], "source_config": sourceConfig, "snapshot_parameters": nil}, &snap)
	if len(snap) != 0 {
		t.Fatalf("post-snapshot %v", snap)
	}

	// A source host that cannot be reached: the seed's message and rsync's stderr.
	in["staged_source"] = stagedSource("no-such-host.invalid")
	_, err := h.Call(testCtx(t), "linked.pre_snapshot", in)
	var pe *pluginhost.PluginError
	const prefix = "Could not copy files. Please ensure that passwordless SSH works for no-such-host.invalid.\n"
	if !errors.As(err, &pe) || pe.Kind != pluginhost.KindUser || !strings.HasPrefix(pe.Message, prefix) ||
		!strings.Contains(pe.Message, "Could not resolve hostname no-such-host.invalid") {
		t.Fatalf("pre-snapshot with a bad source address: %v", err)
	}

	// Provisioning: the VDB is described by its mount location.
	vdbMount := filepath.Join(work, "mnt", "vdb")
	vs := map[string]any{"guid": "VDB-1", "connection": testConn, "parameters": map[string]any{"mountLocation": vdbMount}, "mounts": []any{}}
	call(t, h, "virtual.mount_specification", map[string]any{"virtual_source": vs, "repository": repos[0]}, &ms)
	if len(ms.Mounts) != 1 || ms.Mounts[0].MountPath != vdbMount {
		t.Fatalf("virtual mount specification %+v", ms)
	}
	var sc map[string]any
	call(t, h, "virtual.configure", map[string]any{"virtual_source": vs, "repository": repos[0], "snapshot": map[string]any{}}, &sc)
	if sc["path"] != vdbMount || sc["name"] != "VDB mounted at "+vdbMount {
		t.Fatalf("configure: %v", sc)
	}
	existing := map[string]any{"name": "kept", "path": "/somewhere"}
	call(t, h, "virtual.reconfigure", map[string]any{"virtual_source": vs, "repository": repos[0], "source_config": existing, "snapshot": map[string]any{}}, &sc)
	if sc["name"] != "kept" || sc["path"] != "/somewhere" {
		t.Fatalf("reconfigure: %v", sc)
	}
	call(t, h, "virtual.post_snapshot", map[string]any{"virtual_source": vs, "repository": repos[0], "source_config": sc}, &snap)
	if len(snap) != 0 {
		t.Fatalf("virtual post-snapshot %v", snap)
	}

	// Inputs are decoded into the generated types: a linked source without
	// its required properties is refused before the plugin's code runs.
	bad := stagedSource("127.0.0.1")
	bad["parameters"] = map[string]any{"sourceAddress": "127.0.0.1"}
	_, err = h.Call(testCtx(t), "linked.pre_snapshot", map[string]any{"staged_source": bad, "repository": repos[0], "source_config": sourceConfig, "snapshot_parameters": nil})
	if !errors.As(err, &pe) || pe.Kind != pluginhost.KindBadInput || !strings.Contains(pe.Message, "required property is missing") {
		t.Fatalf("bad input: %v", err)
	}
}

func checkManifestOps(t *testing.T, bin string, want []string) {
	t.Helper()
	m, err := pluginhost.ReadManifest(context.Background(), bin)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m.Operations)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) || len(m.Errors) > 0 || m.PluginType != protocol.PluginTypeStaged {
		t.Fatalf("manifest operations %s, errors %v; want %s", got, m.Errors, exp)
	}
}
