package scaffold

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

var (
	testEnv  = sdk.RemoteEnvironment{Name: "env", Reference: "UNIX_HOST_ENVIRONMENT-1", Host: sdk.RemoteHost{Name: "localhost", Reference: "UNIX_HOST-1", ScratchPath: "/home/delphix/scratch"}}
	testConn = sdk.RemoteConnection{Environment: testEnv, User: sdk.RemoteUser{Name: "delphix", Reference: "HOST_USER-1"}}
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// requiredOps are the required operations of a plugin type (docs/build.md, manifest checks).
func requiredOps(pt string) []string {
	var out []string
	for _, s := range protocol.Operations() {
		if s.Required(pt) {
			out = append(out, s.Name)
		}
	}
	slices.Sort(out)
	return out
}

// checkManifest: a scaffold implements exactly the required operations.
func checkManifest(t *testing.T, bin, pt string) {
	t.Helper()
	m, err := pluginhost.ReadManifest(testCtx(t), bin)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.PluginType != pt || len(m.Errors) > 0 || !slices.Equal(m.Operations, requiredOps(pt)) {
		t.Fatalf("manifest %+v, want operations %v", m, requiredOps(pt))
	}
}

func newHost(t *testing.T, bin string, libs *pluginhost.LocalLibraries) *pluginhost.Host {
	t.Helper()
	if libs == nil {
		libs = &pluginhost.LocalLibraries{Dir: t.TempDir()}
	}
	h, err := pluginhost.New(pluginhost.Options{Binary: bin, Libraries: libs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func call(t *testing.T, h *pluginhost.Host, op string, in any, out any) {
	t.Helper()
	raw, err := h.Call(testCtx(t), op, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: %s: %v", op, raw, err)
	}
}

// checkMounts runs the scaffold's operations through pluginhost.
func checkMounts(t *testing.T, bin, pt, ht string) {
	t.Helper()
	h := newHost(t, bin, nil)
	const guid = "VDB-GUID-1"
	// Under the environment's scratch path.
	prefix := testEnv.Host.ScratchPath + "/dlpx_staged_mounts/"
	if ht == Windows {
		prefix = testEnv.Host.ScratchPath + `\dlpx_staged_mounts\`
	}
	var repos []map[string]any
	call(t, h, "discovery.repository", map[string]any{"source_connection": testConn}, &repos)
	if len(repos) != 1 || repos[0]["name"] == "" {
		t.Fatalf("repositories %v", repos)
	}
	var configs []map[string]any
	call(t, h, "discovery.source_config", map[string]any{"source_connection": testConn, "repository": repos[0]}, &configs)
	if len(configs) != 0 {
		t.Fatalf("source configs %v", configs)
	}
	vs := map[string]any{"guid": guid, "connection": testConn, "parameters": map[string]any{}, "mounts": []any{}}
	var ms sdk.MountSpecification
	call(t, h, "virtual.mount_specification", map[string]any{"virtual_source": vs, "repository": repos[0]}, &ms)
	if len(ms.Mounts) != 1 || ms.Mounts[0].MountPath != prefix+guid || ms.Mounts[0].RemoteEnvironment.Reference != testEnv.Reference {
		t.Fatalf("virtual mount specification %+v", ms)
	}
	var sc map[string]any
	call(t, h, "virtual.configure", map[string]any{"virtual_source": vs, "repository": repos[0], "snapshot": map[string]any{}}, &sc)
	if sc["name"] != guid {
		t.Fatalf("configure: %v", sc)
	}
	call(t, h, "virtual.reconfigure", map[string]any{"virtual_source": vs, "repository": repos[0], "source_config": sc, "snapshot": map[string]any{}}, &sc)
	if sc["name"] != guid {
		t.Fatalf("reconfigure: %v", sc)
	}
	var snap map[string]any
	call(t, h, "virtual.post_snapshot", map[string]any{"virtual_source": vs, "repository": repos[0], "source_config": sc}, &snap)
	if len(snap) != 0 {
		t.Fatalf("virtual post-snapshot %v", snap)
	}
	if pt == protocol.PluginTypeStaged {
		ss := map[string]any{"guid": "LINKED-1", "source_connection": testConn, "staged_connection": testConn, "parameters": map[string]any{}}
		call(t, h, "linked.mount_specification", map[string]any{"staged_source": ss, "repository": repos[0]}, &ms)
		if len(ms.Mounts) != 1 || ms.Mounts[0].MountPath != prefix+"LINKED-1" {
			t.Fatalf("linked mount specification %+v", ms)
		}
		call(t, h, "linked.post_snapshot", map[string]any{"staged_source": ss, "repository": repos[0], "source_config": sc, "snapshot_parameters": nil}, &snap)
	} else {
		ds := map[string]any{"guid": "LINKED-1", "connection": testConn, "parameters": map[string]any{}}
		call(t, h, "linked.post_snapshot", map[string]any{"direct_source": ds, "repository": repos[0], "source_config": sc, "snapshot_parameters": nil}, &snap)
	}
	if len(snap) != 0 {
		t.Fatalf("linked post-snapshot %v", snap)
	}
}
