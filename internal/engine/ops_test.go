package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engineapi"
)

// recorderEngine starts an engine (workers every workerInterval; 0:
// none) with testdata/plugins/recorder installed and a local environment
// "here", and returns the client and the environment's scratch path,
// where the plugin records its calls (calls.log) and reads what steers it.
func recorderEngine(t *testing.T, workerInterval time.Duration) (*client, string) {
	t.Helper()
	te := startEngine(t, "", func(c *Config) { c.Clock, c.WorkerInterval = nil, workerInterval })
	c := te.client(t)
	c.login(testPassword)
	doc, err := artifact.Marshal(enginetest.RecorderArtifact(testPlugin(t, "recorder"), nil))
	if err != nil {
		t.Fatal(err)
	}
	if env := c.upload(doc); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	c.mustComplete("environment", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	var env engineapi.Environment
	json.Unmarshal(c.call("GET", "delphix/environment/here", nil).Result, &env)
	return c, env.ScratchPath
}

// calls are the operations the recorder was called with, in order.
func calls(t *testing.T, scratch string) []string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(scratch, "calls.log"))
	var ops []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if op, _, _ := strings.Cut(line, " "); op != "" {
			ops = append(ops, op)
		}
	}
	return ops
}

// callsSince are the operations recorded after the first n.
func callsSince(t *testing.T, scratch string, n int) string {
	return strings.Join(calls(t, scratch)[n:], " ")
}

func (c *client) container(name string) engineapi.Container {
	c.t.Helper()
	var ct engineapi.Container
	if err := json.Unmarshal(c.call("GET", "delphix/database/"+name, nil).Result, &ct); err != nil {
		c.t.Fatal(err)
	}
	return ct
}

// Discovery finds what is there and removes what vanished, unless a
// dSource uses it (then it is marked missing); source_size is called after
// link, sync, provision, refresh and status, and its failure is recorded,
// not fatal; the OwnershipSpecification is applied to local mounts.
func TestDiscoveryRemovalSizesAndOwnership(t *testing.T) {
	t.Parallel()
	c, scratch := recorderEngine(t, 0)
	repos := filepath.Join(scratch, "repos")
	for _, d := range []string{"r1/d1", "r1/d2", "r2/d3"} {
		os.MkdirAll(filepath.Join(repos, d), 0o755)
	}
	os.WriteFile(filepath.Join(repos, "r1/d1/file.txt"), []byte("data"), 0o644)
	c.mustComplete("refresh", c.call("POST", "delphix/environment/here/refresh", nil))
	if n := len(c.list("delphix/repository")); n != 2 {
		t.Fatalf("%d repositories, want r1 and r2", n)
	}
	if n := len(c.list("delphix/sourceconfig")); n != 3 {
		t.Fatalf("%d source configs, want d1, d2, d3", n)
	}
	d1 := filepath.Join(repos, "r1/d1")

	// Link d1: the size is measured after the sync; the storage belongs to
	// the owner the mount specification asks for.
	mnt := filepath.Join(t.TempDir(), "mnt")
	n := len(calls(t, scratch))
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": d1,
		"parameters": map[string]any{"mountLocation": mnt, "uid": 4321, "gid": 4322}}))
	if got := callsSince(t, scratch, n); !strings.HasSuffix(got, "linked.pre_snapshot linked.post_snapshot linked.source_size") {
		t.Errorf("link called %s", got)
	}
	ds := c.container("ds")
	if ds.Size == nil || *ds.Size != 4096 || ds.SizeError != "" {
		t.Errorf("after link: size %v, error %q", ds.Size, ds.SizeError)
	}
	if os.Geteuid() == 0 {
		st, err := os.Stat(mnt) // the storage the mount links to
		if err != nil || st.Sys().(*syscall.Stat_t).Uid != 4321 || st.Sys().(*syscall.Stat_t).Gid != 4322 || ds.Mounts[0].Owner != "4321:4322" {
			t.Errorf("the storage's owner: %v %+v, mount %+v", err, st, ds.Mounts)
		}
	}

	// Another size; then a failing source_size: the sync completes, the
	// failure is recorded and the last size kept.
	os.WriteFile(filepath.Join(scratch, "size"), []byte("777\n"), 0o644)
	c.mustComplete("sync", c.call("POST", "delphix/database/ds/sync", nil))
	if ds = c.container("ds"); ds.Size == nil || *ds.Size != 777 {
		t.Errorf("after sync: size %v", ds.Size)
	}
	os.WriteFile(filepath.Join(scratch, "fail-size"), nil, 0o644)
	events := c.mustComplete("sync with a failing source_size", c.call("POST", "delphix/database/ds/sync", nil))
	if ds = c.container("ds"); ds.Size == nil || *ds.Size != 777 || !strings.Contains(ds.SizeError, "the size cannot be measured") ||
		!strings.Contains(strings.Join(events, "\n"), "The size of ds is unknown: The plugin operation linked.source_size() failed: the size cannot be measured") {
		t.Errorf("after a failed measure: size %v, error %q\n%s", ds.Size, ds.SizeError, strings.Join(events, "\n"))
	}
	os.Remove(filepath.Join(scratch, "fail-size"))

	// A VDB: measured after provision, refresh and status.
	snap := c.list("delphix/snapshot?database=ds")[0]["reference"].(string)
	n = len(calls(t, scratch))
	c.mustComplete("provision", c.call("POST", "delphix/database/provision", map[string]any{"name": "vdb", "snapshot": snap, "environment": "here",
		"repository": "r1", "parameters": map[string]any{"mountLocation": filepath.Join(t.TempDir(), "vdb")}}))
	c.mustComplete("refresh", c.call("POST", "delphix/database/vdb/refresh", nil))
	c.mustComplete("status", c.call("POST", "delphix/database/vdb/status", nil))
	if got := callsSince(t, scratch, n); strings.Count(got, "virtual.source_size") != 3 {
		t.Errorf("provision, refresh, status called %s", got)
	}
	if v := c.container("vdb"); v.Size == nil || *v.Size != 777 {
		t.Errorf("the VDB's size: %v", v.Size)
	}

	// d2 and r2 (with d3) vanish and are removed; d1 vanishes too but the
	// dSource uses it: kept, marked missing, and unmarked when it is back.
	os.RemoveAll(filepath.Join(repos, "r2"))
	os.RemoveAll(filepath.Join(repos, "r1/d2"))
	os.Rename(d1, d1+".away")
	events = c.mustComplete("refresh", c.call("POST", "delphix/environment/here/refresh", nil))
	all := strings.Join(events, "\n")
	for _, want := range []string{`no longer finds the source config "` + filepath.Join(repos, "r1/d2") + `"`, `no longer finds the repository "r2"`,
		`no longer finds the source config "` + d1 + `" (` + ds.SourceConfig + `): kept and marked missing, since dSource ds use it.`} {
		if !strings.Contains(all, want) {
			t.Errorf("refresh events miss %q:\n%s", want, all)
		}
	}
	scs := c.list("delphix/sourceconfig")
	var names []string
	for _, sc := range scs {
		names = append(names, sc["name"].(string))
		if sc["name"] == d1 && sc["missing"] != true {
			t.Errorf("d1 is not marked missing: %v", sc)
		}
	}
	if n := len(c.list("delphix/repository")); n != 1 {
		t.Errorf("%d repositories after r2 vanished", n)
	}
	if env := c.call("POST", "delphix/database/link", map[string]any{"name": "ds2", "sourceConfig": ds.SourceConfig,
		"parameters": map[string]any{"mountLocation": filepath.Join(t.TempDir(), "mnt2")}}); env.code != 409 || !strings.Contains(env.Error.Details, "is missing: the last discovery on its environment did not find it") {
		t.Errorf("a link to a missing source config: %d %+v", env.code, env.Error)
	}
	// The VDB's own source config and d1.away (found now) stay.
	if len(scs) != 3 || !strings.Contains(strings.Join(names, " "), d1+".away") {
		t.Errorf("source configs after the refresh: %v", names)
	}
	os.Rename(d1+".away", d1)
	c.mustComplete("refresh", c.call("POST", "delphix/environment/here/refresh", nil))
	var sc engineapi.SourceConfig
	json.Unmarshal(c.call("GET", "delphix/sourceconfig/"+ds.SourceConfig, nil).Result, &sc)
	if sc.Missing || sc.Name != d1 {
		t.Errorf("d1 back: %+v", sc)
	}
	c.mustComplete("sync once d1 is back", c.call("POST", "delphix/database/ds/sync", nil))
}

// An empty VDB: mounted, then virtual.initialize makes its dataset; its
// source config is the VDB's; refresh needs a snapshot; a plugin without
// initialize is refused.
func TestCreateEmptyVDB(t *testing.T) {
	t.Parallel()
	c, scratch := recorderEngine(t, 0)
	os.MkdirAll(filepath.Join(scratch, "repos", "r1"), 0o755)
	c.mustComplete("refresh", c.call("POST", "delphix/environment/here/refresh", nil))
	mnt := filepath.Join(t.TempDir(), "empty")
	if env := c.call("POST", "delphix/database/createEmpty", map[string]any{"name": "e", "environment": "here", "repository": "r1", "parameters": map[string]any{"mountLocation": "rel"}}); env.code != 400 ||
		!strings.Contains(env.Error.Details, `/mountLocation: "rel" is not an absolute Unix path`) {
		t.Errorf("invalid parameters: %d %+v", env.code, env.Error)
	}
	if env := c.call("POST", "delphix/database/createEmpty", map[string]any{"name": "e", "environment": "here", "repository": "nope", "parameters": map[string]any{"mountLocation": mnt}}); env.code != 404 {
		t.Errorf("an unknown repository: %d %+v", env.code, env.Error)
	}
	n := len(calls(t, scratch))
	started := c.call("POST", "delphix/database/createEmpty", map[string]any{"name": "e", "environment": "here", "repository": "r1", "parameters": map[string]any{"mountLocation": mnt}})
	ref := resultString(t, started)
	c.mustComplete("create empty", started)
	if got := callsSince(t, scratch, n); got != "virtual.mount_specification virtual.initialize virtual.source_size" {
		t.Errorf("create-empty called %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "INITIALIZED")); err != nil || string(b) != "empty\n" {
		t.Errorf("initialize did not run on the mount: %q %v", b, err)
	}
	v := c.container("e")
	var sc engineapi.SourceConfig
	json.Unmarshal(c.call("GET", "delphix/sourceconfig/"+v.SourceConfig, nil).Result, &sc)
	// Its creation intent (what crash recovery reads) ended with the job.
	if v.Pending != "" {
		t.Errorf("the empty VDB is still pending %q after its creation", v.Pending)
	}
	if v.Reference != ref || v.ContainerType != "VDB" || v.Runtime != "ACTIVE" || v.Parent != "" || sc.Container != ref || string(sc.Parameters) != `{"path":"`+mnt+`"}` {
		t.Errorf("the empty VDB %+v, its source config %+v", v, sc)
	}
	if env := c.call("POST", "delphix/database/e/refresh", nil); env.code != 400 || !strings.Contains(env.Error.Details, "The VDB e was created empty") {
		t.Errorf("refresh of an empty VDB: %d %+v", env.code, env.Error)
	}
	c.mustComplete("snapshot", c.call("POST", "delphix/database/e/snapshot", nil))
	c.mustComplete("rollback", c.call("POST", "delphix/database/e/rollback", nil))
	c.mustComplete("delete", c.call("POST", "delphix/database/e/delete", nil))

	// A plugin without virtual.initialize cannot.
	doc, _ := artifact.Marshal(enginetest.RecorderArtifact(testPlugin(t, "recorder"), func(a *artifact.Artifact) {
		a.PluginID, a.Name, a.Manifest.HasInitialize = "5ec04de7-0000-4000-8000-000000000018", "no-initialize", false
	}))
	if env := c.upload(doc); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	c.mustComplete("refresh", c.call("POST", "delphix/environment/here/refresh", nil))
	var tk, repo string
	for _, x := range c.toolkits() {
		if x["name"] == "no-initialize" {
			tk = x["reference"].(string)
		}
	}
	for _, r := range c.list("delphix/repository") {
		if r["toolkit"] == tk {
			repo = r["reference"].(string)
		}
	}
	env := c.call("POST", "delphix/database/createEmpty", map[string]any{"name": "e2", "environment": "here", "repository": repo, "parameters": map[string]any{"mountLocation": mnt}})
	if env.code != 400 || !strings.Contains(env.Error.Details, `The plugin "no-initialize" does not implement virtual.initialize`) {
		t.Errorf("create-empty with a plugin without initialize: %d %+v", env.code, env.Error)
	}
}

// linked.worker runs at the engine's interval for enabled STAGED dSources;
// its failures are recorded on the dSource, and the dSource goes on
// working.
func TestWorkerRunsAtTheInterval(t *testing.T) {
	t.Parallel()
	c, scratch := recorderEngine(t, 20*time.Millisecond)
	os.MkdirAll(filepath.Join(scratch, "repos", "r1", "d1"), 0o755)
	c.mustComplete("refresh", c.call("POST", "delphix/environment/here/refresh", nil))
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": filepath.Join(scratch, "repos", "r1", "d1"),
		"parameters": map[string]any{"mountLocation": filepath.Join(t.TempDir(), "mnt")}}))
	workerCalls := func() int { return strings.Count(strings.Join(calls(t, scratch), " "), "linked.worker") }
	// Bounded: the work is waited for, not the time.
	for i := 0; workerCalls() < 2; i++ {
		if i > 3000 {
			t.Fatalf("linked.worker ran %d times; calls: %v", workerCalls(), calls(t, scratch))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ds := c.container("ds"); ds.WorkerRun == "" || ds.WorkerError != "" {
		t.Errorf("after worker runs: %+v", ds)
	}
	os.WriteFile(filepath.Join(scratch, "fail-worker"), nil, 0o644)
	for i := 0; !strings.Contains(c.container("ds").WorkerError, "the worker failed"); i++ {
		if i > 3000 {
			t.Fatalf("the worker's failure was never recorded: %+v", c.container("ds"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.mustComplete("sync while the worker fails", c.call("POST", "delphix/database/ds/sync", nil))
	os.Remove(filepath.Join(scratch, "fail-worker"))
	for i := 0; c.container("ds").WorkerError != ""; i++ {
		if i > 3000 {
			t.Fatalf("the worker's failure stays after it works again: %+v", c.container("ds"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
