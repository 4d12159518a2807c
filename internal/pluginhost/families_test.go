package pluginhost

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/sdk"
)

func TestManifest(t *testing.T) {
	ctx := ctxTimeout(t, 30e9)
	m, err := ReadManifest(ctx, pluginPath("staged"))
	if err != nil {
		t.Fatal(err)
	}
	if m.PluginType != "STAGED" || m.Protocol != "dvp-plugin" || !slices.Contains(m.ProtocolVersions, 1) || m.SDKVersion != sdk.Version {
		t.Fatalf("%+v", m)
	}
	wantOps := []string{"discovery.repository", "discovery.source_config", "linked.mount_specification", "linked.post_snapshot",
		"linked.pre_snapshot", "linked.source_size", "linked.start_staging", "linked.status", "linked.stop_staging", "linked.worker",
		"virtual.configure", "virtual.initialize", "virtual.mount_specification", "virtual.post_snapshot", "virtual.reconfigure",
		"virtual.status", "virtual.unconfigure"}
	if !reflect.DeepEqual(m.Operations, wantOps) {
		t.Fatalf("operations %v", m.Operations)
	}
	if len(m.Migrations) != 8 || m.Migrations[0].ID != "2019.10.04" || m.Migrations[0].CanonicalID != "2019.10.4" ||
		m.Migrations[2].Type != sdk.LuaMigration || m.Migrations[2].Name != "lua110" {
		t.Fatalf("migrations %+v", m.Migrations)
	}

	m, err = ReadManifest(ctx, pluginPath("direct"))
	if err != nil || m.PluginType != "DIRECT" || len(m.Migrations) != 0 || len(m.Operations) != 9 {
		t.Fatalf("%+v %v", m, err)
	}
	// Init-time output on stdout does not hide the manifest.
	if m, err = ReadManifest(ctx, pluginPath("stdout")); err != nil || len(m.Operations) != 1 {
		t.Fatalf("%+v %v", m, err)
	}

	m, err = ReadManifest(ctx, pluginPath("invalid"))
	var me *ManifestError
	if !errors.As(err, &me) || m == nil {
		t.Fatalf("%v", err)
	}
	want := []string{
		"'linked.bogus' is not a plugin operation.",
		"The operation linked.start_staging() is not supported for DIRECT plugins.",
		"The migration id '5.04.000.01' used in the function 'snap_upgrade' has the same canonical form '5.4.0.1' as another migration.",
		`The migration id '1234.0.0.' used in the function 'bad_format' does not follow the correct format '^\d+(\.\d+)*$'.`,
		"The migration id '0.0' used in the function 'zero' cannot be used because a 0 migration id is not allowed.",
		`The lua major minor version '1.0.patchversion' used in the function 'bad_lua' decorated by 'upgrade.repository()' does not follow the correct format '^\d+\.\d+$'.`,
	}
	if !reflect.DeepEqual(me.Problems, want) {
		t.Fatalf("problems:\n%s", strings.Join(me.Problems, "\n"))
	}

	if _, err := ReadManifest(ctx, "/bin/true"); err == nil || !strings.Contains(err.Error(), "did not print a plugin manifest") {
		t.Fatalf("not a plugin: %v", err)
	}
}

func TestDiscovery(t *testing.T) {
	f := newFixture(t, "staged")
	// The plugin decodes with types.Unmarshal: names match exactly.
	var repos []struct {
		Name string `json:"name"`
		Path string `json:"path"`
	}
	f.call(t, "discovery.repository", map[string]any{"source_connection": connA}, &repos)
	// RunBash ran bash locally, in the configured directory, with the variable.
	if len(repos) != 1 || repos[0].Name != "repo-hello-envA" || repos[0].Path != f.dir {
		t.Fatalf("%+v", repos)
	}
	for _, name := range []string{"db1", "db2"} {
		if err := os.Mkdir(filepath.Join(f.dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var configs []struct{ Path string }
	f.call(t, "discovery.source_config", map[string]any{"source_connection": connA, "repository": repos[0]}, &configs)
	if len(configs) != 2 || configs[0].Path != f.dir+"/db1" || configs[1].Path != f.dir+"/db2" {
		t.Fatalf("%+v", configs)
	}
	// A failing command with Check() is a plugin error with the reference text.
	pe := f.fail(t, nil, "discovery.source_config", map[string]any{"source_connection": connA, "repository": map[string]string{"path": f.dir + "/missing"}},
		KindPlugin, "The script failed with exit code 2. stdout :  and  stderr : ls: cannot access")
	if pe.Action != sdk.DefaultUserErrorAction {
		t.Fatalf("action %q", pe.Action)
	}
}

func stagedSource(f *fixture, mount string, params map[string]any) map[string]any {
	return map[string]any{
		"guid": "GUID-1", "source_connection": connA, "staged_connection": connA, "parameters": params,
		"staged_mount": sdk.Mount{RemoteEnvironment: envA, MountPath: mount},
	}
}

func TestLinkedStaged(t *testing.T) {
	f := newFixture(t, "staged")
	mount := filepath.Join(f.dir, "staging")
	src := filepath.Join(f.dir, "source")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.dat", "sub/b.dat"} {
		if err := os.WriteFile(filepath.Join(src, n), []byte("data "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo := map[string]string{"name": "r", "path": f.dir}
	sc := map[string]string{"path": src}
	params := map[string]any{"mountLocation": mount,
		"credentials": map[string]string{"type": "NamedPasswordCredential", "username": "copier", "password": "pw"}}

	// mount_specification: one mount on the staging environment.
	var spec sdk.MountSpecification
	f.call(t, "linked.mount_specification", map[string]any{"staged_source": stagedSource(f, "", params), "repository": repo}, &spec)
	if len(spec.Mounts) != 1 || spec.Mounts[0].MountPath != mount || spec.Mounts[0].RemoteEnvironment.Reference != envA.Reference || spec.OwnershipSpecification != nil {
		t.Fatalf("%+v", spec)
	}
	// Two mounts (one by reference, with a shared path) and an owner.
	p2 := map[string]any{"mountLocation": mount, "extraMountRef": "UNIX_HOST_ENVIRONMENT-9", "uid": 1001}
	f.call(t, "linked.mount_specification", map[string]any{"staged_source": stagedSource(f, "", p2), "repository": repo}, &spec)
	if len(spec.Mounts) != 2 || spec.Mounts[1].RemoteEnvironment.Reference != "UNIX_HOST_ENVIRONMENT-9" || spec.Mounts[1].SharedPath != "/sub" ||
		spec.OwnershipSpecification == nil || spec.OwnershipSpecification.UID != 1001 {
		t.Fatalf("%+v", spec)
	}
	p2["extraMountRef"] = "HOST-24"
	pe := f.fail(t, nil, "linked.mount_specification", map[string]any{"staged_source": stagedSource(f, "", p2), "repository": repo},
		KindUser, "Reference 'HOST-24' is not a correctly formatted host environment reference.")
	if pe.Action != "Fix the extra mount reference." {
		t.Fatal(pe.Action)
	}

	// Sync: pre_snapshot copies with RunBash after retrieving credentials,
	// post_snapshot describes the copy.
	in := map[string]any{"staged_source": stagedSource(f, mount, params), "repository": repo, "source_config": sc, "snapshot_parameters": map[string]bool{"resync": true}}
	if raw := f.call(t, "linked.pre_snapshot", in, nil); string(raw) != "null" {
		t.Fatalf("pre_snapshot returned %s", raw)
	}
	if b, err := os.ReadFile(filepath.Join(mount, "sub", "b.dat")); err != nil || string(b) != "data sub/b.dat" {
		t.Fatalf("copy: %q %v", b, err)
	}
	var snap struct {
		Files        int
		Resync       bool
		PolicyDriven bool
		User         string
	}
	f.call(t, "linked.post_snapshot", in, &snap)
	if snap.Files != 2 || !snap.Resync || snap.PolicyDriven || snap.User != "copier" {
		t.Fatalf("%+v", snap)
	}
	in["snapshot_parameters"] = nil // a policy-driven sync
	f.call(t, "linked.post_snapshot", in, &snap)
	if !snap.PolicyDriven || snap.Resync {
		t.Fatalf("%+v", snap)
	}
	// The credentials were logged masked.
	if !strings.Contains(f.info.String(), "[linked.pre_snapshot] retrieved credentials creds.username=copier creds.password=******") ||
		strings.Contains(f.debug.String(), "pw ") {
		t.Fatalf("info log:\n%s", f.info.String())
	}

	// A failing copy is a user error carrying the script error.
	bad := map[string]any{"staged_source": stagedSource(f, mount, map[string]any{"mountLocation": mount}), "repository": repo,
		"source_config": map[string]string{"path": filepath.Join(f.dir, "nowhere")}, "snapshot_parameters": nil}
	pe = f.fail(t, nil, "linked.pre_snapshot", bad, KindUser, "Could not copy the files.")
	if pe.Action != "Check the source path." || !strings.HasPrefix(pe.Output, "The script failed with exit code 1. stdout :  and  stderr : cp: cannot stat") {
		t.Fatalf("%+v", pe)
	}

	lin := map[string]any{"staged_source": stagedSource(f, mount, params), "repository": repo, "source_config": sc}
	var status string
	f.call(t, "linked.status", lin, &status)
	var size int64
	f.call(t, "linked.source_size", lin, &size)
	if status != "ACTIVE" || size < 20 {
		t.Fatalf("status %s size %d", status, size)
	}
	lin["staged_source"] = stagedSource(f, filepath.Join(f.dir, "gone"), params)
	f.call(t, "linked.status", lin, &status)
	if status != "INACTIVE" {
		t.Fatal(status)
	}

	// start/stop staging and worker log; the levels map to the engine's.
	for _, op := range []string{"linked.start_staging", "linked.stop_staging", "linked.worker"} {
		if raw := f.call(t, op, lin, nil); string(raw) != "null" {
			t.Fatalf("%s returned %s", op, raw)
		}
	}
	d, i, e := f.debug.String(), f.info.String(), f.errLog.String()
	if !strings.Contains(i, "INFO [linked.start_staging] starting staging guid=GUID-1") ||
		!strings.Contains(e, "ERROR [linked.stop_staging] stopping staging without the operation's context guid=GUID-1") ||
		!strings.Contains(i, "stopping staging") || !strings.Contains(d, "stopping staging") ||
		!strings.Contains(d, "DEBUG [linked.worker] worker ran src.guid=GUID-1") || strings.Contains(i, "worker ran") ||
		strings.Contains(e, "starting staging") {
		t.Fatalf("logs:\ndebug:\n%s\ninfo:\n%s\nerror:\n%s", d, i, e)
	}
}

func TestLinkedDirect(t *testing.T) {
	f := newFixture(t, "direct")
	var repos []map[string]string
	f.call(t, "discovery.repository", map[string]any{"source_connection": connA}, &repos)
	if len(repos) != 1 || repos[0]["name"] != "envA" {
		t.Fatal(repos)
	}
	// A nil slice is an empty list.
	if raw := f.call(t, "discovery.source_config", map[string]any{"source_connection": connA, "repository": repos[0]}, nil); string(raw) != "[]" {
		t.Fatalf("%s", raw)
	}

	src := filepath.Join(f.dir, "src")
	elsewhere := filepath.Join(f.dir, "elsewhere")
	for _, d := range []string{src + "/keep", src + "/skip", elsewhere} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string]string{src + "/keep/k.txt": "k", src + "/skip/s.txt": "s", src + "/top.txt": "t", elsewhere + "/e.txt": "e"} {
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(elsewhere, src+"/followed"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, src+"/kept-link"); err != nil {
		t.Fatal(err)
	}
	ds := sdk.DirectSource[map[string]any]{GUID: "D-1", Connection: connA, Parameters: map[string]any{"exclude": []string{"skip"}, "follow": []string{"followed"}}}
	in := map[string]any{"direct_source": ds, "repository": repos[0], "source_config": map[string]string{"path": src}, "snapshot_parameters": nil}
	if raw := f.call(t, "linked.pre_snapshot", in, nil); string(raw) != "null" {
		t.Fatalf("%s", raw)
	}
	dest := f.libs.SyncDestination
	if b, err := os.ReadFile(dest + "/keep/k.txt"); err != nil || string(b) != "k" {
		t.Fatalf("synced file: %q %v", b, err)
	}
	if _, err := os.Stat(dest + "/skip"); !os.IsNotExist(err) {
		t.Fatalf("excluded path synced: %v", err)
	}
	if fi, err := os.Lstat(dest + "/followed"); err != nil || fi.Mode()&os.ModeSymlink != 0 || !fi.IsDir() {
		t.Fatalf("followed link: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(dest + "/followed/e.txt"); string(b) != "e" {
		t.Fatal("followed link content missing")
	}
	if fi, err := os.Lstat(dest + "/kept-link"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("other links stay links: %v %v", fi, err)
	}
	if !strings.Contains(f.info.String(), "INFO [linked.pre_snapshot] syncing from="+src) {
		t.Fatal(f.info.String())
	}

	var snap map[string]any
	f.call(t, "linked.post_snapshot", in, &snap)
	if snap["guid"] != "D-1" || snap["policyDriven"] != true {
		t.Fatal(snap)
	}
	var size json.Number
	f.call(t, "linked.source_size", map[string]any{"direct_source": ds, "repository": repos[0], "source_config": map[string]string{"path": src}}, &size)
	if size.String() != "12345" {
		t.Fatal(size)
	}
	// Staged-only operations are not implemented by a DIRECT plugin.
	f.fail(t, nil, "linked.mount_specification", map[string]any{}, KindNotImplemented, "An implementation for the linked.mount_specification() operation has not been defined.")
}

func virtualSource(f *fixture, params map[string]any) sdk.VirtualSource[map[string]any] {
	return sdk.VirtualSource[map[string]any]{GUID: "V-1", Connection: connA, Parameters: params,
		Mounts: []sdk.Mount{{RemoteEnvironment: envA, MountPath: filepath.Join(f.dir, "vdb")}}}
}

func TestVirtual(t *testing.T) {
	f := newFixture(t, "staged")
	vs := virtualSource(f, map[string]any{"mountLocation": "/mnt/vdb", "sharedPath": "/data"})
	repo := map[string]string{"name": "r", "path": "/"}
	var spec sdk.MountSpecification
	f.call(t, "virtual.mount_specification", map[string]any{"virtual_source": vs, "repository": repo}, &spec)
	// A single virtual mount may have a shared path.
	if len(spec.Mounts) != 1 || spec.Mounts[0].SharedPath != "/data" || spec.Mounts[0].MountPath != "/mnt/vdb" {
		t.Fatalf("%+v", spec)
	}
	var sc map[string]any
	f.call(t, "virtual.configure", map[string]any{"virtual_source": vs, "repository": repo, "snapshot": map[string]int{"files": 3}}, &sc)
	want := filepath.Join(f.dir, "vdb") + "#3"
	if sc["path"] != want {
		t.Fatal(sc)
	}
	f.call(t, "virtual.reconfigure", map[string]any{"virtual_source": vs, "repository": repo, "source_config": sc, "snapshot": map[string]int{}}, &sc)
	if sc["path"] != want+"+reconfigured" {
		t.Fatal(sc)
	}
	in := map[string]any{"virtual_source": vs, "repository": repo, "source_config": sc}
	if raw := f.call(t, "virtual.unconfigure", in, nil); string(raw) != "null" {
		t.Fatalf("unconfigure's result is ignored: %s", raw)
	}
	var snap map[string]any
	f.call(t, "virtual.post_snapshot", in, &snap)
	var status string
	f.call(t, "virtual.status", in, &status)
	if snap["files"] != 1.0 || status != "INACTIVE" {
		t.Fatal(snap, status)
	}
	// The virtual source's input is checked: a missing field is a bad input.
	f.fail(t, nil, "virtual.configure", map[string]any{"virtual_source": vs, "repository": repo}, KindBadInput,
		"The input of the virtual.configure() operation is invalid: the input has no 'snapshot' field")
	f.fail(t, nil, "virtual.start", in, KindNotImplemented, "An implementation for the virtual.start() operation has not been defined.")
}

func TestUpgrade(t *testing.T) {
	f := newFixture(t, "staged")
	var out struct {
		PostUpgradeParameters map[string]map[string]any `json:"post_upgrade_parameters"`
	}
	f.call(t, "upgrade", map[string]any{
		"kind": "repository", "migration_ids": []string{"2019.4.1", "2019.10.4", "2020.1"}, "lua_upgrade_version": "1.5",
		"pre_upgrade_parameters": map[string]any{"REPO-1": map[string]any{"name": "r"}, "REPO-2": map[string]any{"trail": []string{"old"}}},
	}, &out)
	// Lua migrations >= 1.5 in numeric order (1.9 before 1.10), then the
	// platform migrations in request order; 2020.1 is a linked_source one.
	if got := out.PostUpgradeParameters["REPO-1"]["trail"]; !reflect.DeepEqual(got, []any{"lua-1.9", "lua-1.10", "2019.04.01", "2019.10.04"}) {
		t.Fatalf("%v", got)
	}
	if got := out.PostUpgradeParameters["REPO-2"]["trail"]; !reflect.DeepEqual(got, []any{"old", "lua-1.9", "lua-1.10", "2019.04.01", "2019.10.04"}) {
		t.Fatalf("%v", got)
	}
	// UpgradePassword inside a migration.
	f.call(t, "upgrade", map[string]any{
		"kind": "source_config", "migration_ids": []string{"2021.01.01"},
		"pre_upgrade_parameters": map[string]any{"SC-1": map[string]any{"user": "bob", "password": "pw", "path": "/p"}},
	}, &out)
	sc := out.PostUpgradeParameters["SC-1"]
	if !reflect.DeepEqual(sc["credentials"], map[string]any{"type": "NamedPasswordCredential", "username": "bob", "password": "pw"}) || sc["password"] != nil || sc["path"] != "/p" {
		t.Fatalf("%v", sc)
	}
	// Other libraries are refused in migrations.
	f.call(t, "upgrade", map[string]any{"kind": "linked_source", "migration_ids": []string{"2020.1"},
		"pre_upgrade_parameters": map[string]any{"LS-1": map[string]any{}}}, &out)
	if out.PostUpgradeParameters["LS-1"]["bashError"] != "not_allowed" {
		t.Fatalf("%v", out.PostUpgradeParameters)
	}
	snapIn := func(obj map[string]any) map[string]any {
		return map[string]any{"kind": "snapshot", "migration_ids": []string{"2022.2.2"}, "pre_upgrade_parameters": map[string]any{"SNAP-1": obj}}
	}
	pe := f.fail(t, nil, "upgrade", snapIn(map[string]any{"fail": true}), KindUser, "cannot migrate this snapshot")
	if pe.Action != "Delete it." {
		t.Fatal(pe.Action)
	}
	f.fail(t, nil, "upgrade", snapIn(map[string]any{"garbage": true}), KindBadOutput,
		"The migration '2022.2.2' (PLATFORM, function 'snapFails') of upgrade.snapshot() returned an array for the object 'SNAP-1' but should return a JSON object.")
	f.fail(t, nil, "upgrade", map[string]any{"kind": "snapshot"}, KindBadInput, "The input of the upgrade() operation is invalid: the input has no 'migration_ids' field")
}
