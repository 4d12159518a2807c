package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/engine/exec"
	"github.com/dvpkit/dvp/internal/engine/store"
	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/testbuild"
)

// The workflow tests run the test plugins of testdata/plugins (built
// offline once) through the engine's API on a local environment.

var (
	pluginsOnce sync.Once
	pluginsDir  string
	pluginsErr  error
)

func testPlugin(t testing.TB, name string) []byte {
	t.Helper()
	pluginsOnce.Do(func() {
		// All of testdata/plugins, as internal/pluginhost's tests build
		// them: one build serves both packages.
		pluginsDir, pluginsErr = testbuild.Binaries(filepath.Join("..", ".."),
			append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"),
			[]string{"-trimpath"}, "./testdata/plugins/...")
		if pluginsErr != nil {
			pluginsErr = fmt.Errorf("building the test plugins: %v", pluginsErr)
		}
	})
	if pluginsErr != nil {
		t.Fatal(pluginsErr)
	}
	b, err := os.ReadFile(filepath.Join(pluginsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stagedArtifacts holds stagedArtifact's results by id, name and the
// binary's SHA-256: the artifact is a function of them, and zipping the
// binary again for every test was a few percent of the package's time.
var stagedArtifacts sync.Map

// stagedArtifact wraps testdata/plugins/staged with its schemas. Each call
// returns its own copy.
func stagedArtifact(t testing.TB, id, name string, bin []byte) []byte {
	sum := sha256.Sum256(bin)
	key := id + "\x00" + name + "\x00" + string(sum[:])
	if b, ok := stagedArtifacts.Load(key); ok {
		return bytes.Clone(b.([]byte))
	}
	a := enginetest.Artifact(enginetest.Options{ID: id, Name: name, Staged: true, Binary: bin, Mutate: func(a *artifact.Artifact) {
		a.DiscoveryDefinition.RepositorySchema = json.RawMessage(`{"type": "object", "properties": {"name": {"type": "string"}, "path": {"type": "string"}}}`)
		a.DiscoveryDefinition.RepositoryIdentityFields, a.DiscoveryDefinition.RepositoryNameField = []string{"name"}, "name"
		a.DiscoveryDefinition.SourceConfigSchema = json.RawMessage(`{"type": "object", "required": ["path"], "properties": {"path": {"type": "string", "format": "unixpath"}}}`)
		a.DiscoveryDefinition.SourceConfigIdentityFields, a.DiscoveryDefinition.SourceConfigNameField = []string{"path"}, "path"
		a.LinkedSourceDefinition.Parameters = json.RawMessage(`{"type": "object", "required": ["mountLocation"], "additionalProperties": false, "properties": {"mountLocation": {"type": "string", "format": "unixpath"}}}`)
		a.VirtualSourceDefinition.Parameters = json.RawMessage(`{"type": "object", "required": ["mountLocation"], "properties": {"mountLocation": {"type": "string", "format": "unixpath"}}}`)
		a.SnapshotSchema = json.RawMessage(`{"type": "object", "properties": {"files": {"type": "integer"}, "resync": {"type": "boolean"}, "policyDriven": {"type": "boolean"}, "user": {"type": "string"}}}`)
		a.SnapshotParametersDefinition.Schema = json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {"resync": {"type": "boolean"}}}`)
		m := &a.Manifest
		m.HasLinkedPreSnapshot, m.HasLinkedStartStaging, m.HasLinkedStopStaging, m.HasLinkedStatus, m.HasLinkedWorker, m.HasLinkedSourceSize = true, true, true, true, true, true
		m.HasVirtualUnconfigure, m.HasVirtualStatus, m.HasInitialize = true, true, true
	}}, nil)
	b, err := artifact.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	stagedArtifacts.Store(key, b)
	return bytes.Clone(b)
}

// stagedArtifactWith is stagedArtifact (the staged test plugin, id
// enginetest.DefaultID) changed by mutate.
func stagedArtifactWith(t testing.TB, mutate func(a *artifact.Artifact)) []byte {
	var a artifact.Artifact
	if err := json.Unmarshal(stagedArtifact(t, enginetest.DefaultID, "staged", testPlugin(t, "staged")), &a); err != nil {
		t.Fatal(err)
	}
	mutate(&a)
	b, err := artifact.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runJob waits for the job of a POST answer and returns its state and the
// details of its events.
func (c *client) runJob(env envelope) (string, []string) {
	c.t.Helper()
	if env.Type != "OKResult" || env.Job == nil {
		c.t.Fatalf("no job: %d %+v", env.code, env)
	}
	for i := 0; i < 3000; i++ {
		j := c.call("GET", "delphix/job/"+*env.Job, nil)
		var job struct {
			JobState string `json:"jobState"`
			Events   []struct {
				Details string  `json:"messageDetails"`
				Action  *string `json:"messageAction"`
			} `json:"events"`
		}
		if err := json.Unmarshal(j.Result, &job); err != nil {
			c.t.Fatalf("job: %+v", j)
		}
		if job.JobState != "RUNNING" {
			var ds []string
			for _, ev := range job.Events {
				d := ev.Details
				if ev.Action != nil {
					d += " [action: " + *ev.Action + "]"
				}
				ds = append(ds, d)
			}
			return job.JobState, ds
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("the job never finished")
	return "", nil
}

func (c *client) mustComplete(what string, env envelope) []string {
	c.t.Helper()
	state, events := c.runJob(env)
	if state != "COMPLETED" {
		c.t.Fatalf("%s: job %s:\n%s", what, state, strings.Join(events, "\n"))
	}
	return events
}

func (c *client) list(path string) []map[string]any {
	c.t.Helper()
	env := c.call("GET", path, nil)
	var out []map[string]any
	if env.Type != "ListResult" || json.Unmarshal(env.Result, &out) != nil {
		c.t.Fatalf("GET %s: %+v", path, env)
	}
	return out
}

// localSource adds the local environment "here", whose discovery finds
// the uploaded plugin's repository, and a source config on that
// repository of tmp/src, a directory holding one.txt ("v1"), with extra
// parameters besides its path. It returns the repository's and the
// source config's references.
func (c *client) localSource(tmp string, extra map[string]any) (repo, sourceConfig string) {
	c.t.Helper()
	c.mustComplete("environment", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	repo = c.list("delphix/repository")[0]["reference"].(string)
	src := filepath.Join(tmp, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "one.txt"), []byte("v1"), 0o644)
	params := map[string]any{"path": src}
	for k, v := range extra {
		params[k] = v
	}
	return repo, resultString(c.t, c.call("POST", "delphix/sourceconfig", map[string]any{"repository": repo, "parameters": params}))
}

func resultString(t testing.TB, env envelope) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(env.Result, &s); err != nil {
		t.Fatalf("result: %+v", env)
	}
	return s
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStagedWorkflowsOnALocalEnvironment(t *testing.T) {
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(stagedArtifact(t, enginetest.DefaultID, "staged", testPlugin(t, "staged"))); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	tmp := t.TempDir()

	// Environment + discovery.
	envRef := ""
	{
		env := c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"})
		envRef = resultString(t, env)
		events := c.mustComplete("environment add", env)
		if !strings.Contains(strings.Join(events, "\n"), `found repository "repo-hello-here"`) {
			t.Errorf("discovery events:\n%s", strings.Join(events, "\n"))
		}
	}
	repos := c.list("delphix/repository?environment=here")
	if len(repos) != 1 || repos[0]["name"] != "repo-hello-here" {
		t.Fatalf("repositories: %v", repos)
	}
	repoRef := repos[0]["reference"].(string)
	if env := c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}); env.code != 409 {
		t.Errorf("a second environment with the same name: %d %+v", env.code, env)
	}

	// Source config: validated against the schema.
	if env := c.call("POST", "delphix/sourceconfig", map[string]any{"repository": repoRef, "parameters": map[string]any{"path": 5}}); env.code != 400 ||
		!strings.Contains(env.Error.Details, "/path:") || env.Error.ID != "exception.validation.parameters" {
		t.Errorf("invalid source config: %d %+v", env.code, env.Error)
	}
	src := filepath.Join(tmp, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "one.txt"), []byte("v1"), 0o644)
	scRef := resultString(t, c.call("POST", "delphix/sourceconfig", map[string]any{"environment": "here", "repository": "repo-hello-here", "parameters": map[string]any{"path": src}}))

	// Link: parameters validated before anything runs.
	if env := c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": scRef, "parameters": map[string]any{"mount": "/x"}}); env.code != 400 ||
		!strings.Contains(env.Error.Details, "/mountLocation: ") || !strings.Contains(env.Error.Details, "/mount: ") {
		t.Errorf("invalid link: %d %+v", env.code, env.Error)
	}
	if n := len(c.list("delphix/database")); n != 0 {
		t.Fatalf("a refused link created %d containers", n)
	}
	mnt := filepath.Join(tmp, "mnt", "ds")
	link := c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": "/" + strings.TrimPrefix(src, "/"), "stagingEnvironment": envRef,
		"parameters": map[string]any{"mountLocation": mnt}})
	c.mustComplete("link", link)
	snaps := c.list("delphix/snapshot?database=ds")
	if len(snaps) != 1 {
		t.Fatalf("snapshots after link: %v", snaps)
	}
	meta := snaps[0]["metadata"].(map[string]any)
	if snaps[0]["resync"] != true || meta["resync"] != true || meta["files"] != float64(1) {
		t.Errorf("first snapshot (a resync): %v", snaps[0])
	}
	snap1 := snaps[0]["reference"].(string)
	snap1Dir := snaps[0]["storage"].(string)
	if got := readFile(t, filepath.Join(snap1Dir, "one.txt")); got != "v1" {
		t.Errorf("snapshot 1 holds %q", got)
	}
	if target, err := os.Readlink(mnt); err != nil || !strings.Contains(target, "storage") {
		t.Errorf("the staging mount is not a link to the storage: %q %v", target, err)
	}

	// Sync again after a change: a new snapshot, the old one unchanged.
	os.WriteFile(filepath.Join(src, "one.txt"), []byte("v2"), 0o644)
	os.WriteFile(filepath.Join(src, "two.txt"), []byte("new"), 0o644)
	c.mustComplete("sync", c.call("POST", "delphix/database/ds/sync", map[string]any{"resync": false}))
	snaps = c.list("delphix/snapshot?database=ds")
	if len(snaps) != 2 {
		t.Fatalf("snapshots after sync: %v", snaps)
	}
	meta = snaps[1]["metadata"].(map[string]any)
	if snaps[1]["resync"] != false || meta["resync"] != false || meta["files"] != float64(2) {
		t.Errorf("second snapshot: %v", snaps[1])
	}
	if got := readFile(t, filepath.Join(snaps[1]["storage"].(string), "one.txt")); got != "v2" {
		t.Errorf("snapshot 2 holds %q", got)
	}
	if got := readFile(t, filepath.Join(snap1Dir, "one.txt")); got != "v1" {
		t.Errorf("snapshot 1 changed to %q", got)
	}
	if env := c.call("POST", "delphix/database/ds/sync", map[string]any{"snapshotParameters": map[string]any{"bogus": 1}}); env.code != 400 ||
		!strings.Contains(env.Error.Details, "/bogus") {
		t.Errorf("invalid snapshot parameters: %d %+v", env.code, env.Error)
	}

	// Provision a VDB from the first snapshot.
	vmnt := filepath.Join(tmp, "mnt", "vdb")
	if env := c.call("POST", "delphix/database/provision", map[string]any{"name": "vdb", "snapshot": snap1, "environment": "here", "parameters": map[string]any{}}); env.code != 400 ||
		!strings.Contains(env.Error.Details, "/mountLocation") {
		t.Errorf("invalid provision: %d %+v", env.code, env.Error)
	}
	c.mustComplete("provision", c.call("POST", "delphix/database/provision", map[string]any{"name": "vdb", "snapshot": snap1, "environment": "here",
		"parameters": map[string]any{"mountLocation": vmnt}}))
	if got := readFile(t, filepath.Join(vmnt, "one.txt")); got != "v1" {
		t.Errorf("the VDB shows %q", got)
	}
	var vdb engineapi.Container
	json.Unmarshal(c.call("GET", "delphix/database/vdb", nil).Result, &vdb)
	var vsc engineapi.SourceConfig
	json.Unmarshal(c.call("GET", "delphix/sourceconfig/"+vdb.SourceConfig, nil).Result, &vsc)
	if string(vsc.Parameters) != fmt.Sprintf(`{"path":"%s#1"}`, vmnt) || vdb.Runtime != "ACTIVE" {
		t.Errorf("VDB %+v, source config %s", vdb, vsc.Parameters)
	}
	os.WriteFile(filepath.Join(vmnt, "one.txt"), []byte("written in the VDB"), 0o644)
	if got := readFile(t, filepath.Join(snap1Dir, "one.txt")); got != "v1" {
		t.Errorf("writing to the VDB changed the snapshot: %q", got)
	}
	for _, op := range []string{"stop", "start", "snapshot", "status", "disable", "enable"} {
		c.mustComplete(op, c.call("POST", "delphix/database/vdb/"+op, nil))
	}
	c.mustComplete("refresh", c.call("POST", "delphix/database/vdb/refresh", nil))
	if got := readFile(t, filepath.Join(vmnt, "one.txt")); got != "v2" {
		t.Errorf("after refresh the VDB shows %q", got)
	}
	c.mustComplete("rollback", c.call("POST", "delphix/database/vdb/rollback", nil))
	if got := readFile(t, filepath.Join(vmnt, "one.txt")); got != "written in the VDB" {
		t.Errorf("after rollback to the VDB's snapshot it shows %q", got)
	}
	if env := c.call("POST", "delphix/database/vdb/sync", nil); env.code != 400 {
		t.Errorf("sync of a VDB: %d %+v", env.code, env)
	}
	if env := c.call("POST", "delphix/database/ds/delete", nil); env.code != 409 {
		t.Errorf("deleting a dSource with a VDB: %d %+v", env.code, env)
	}
	for _, op := range []string{"status", "disable", "enable"} {
		c.mustComplete("dSource "+op, c.call("POST", "delphix/database/ds/"+op, nil))
	}
	c.mustComplete("delete vdb", c.call("POST", "delphix/database/vdb/delete", nil))
	if _, err := os.Lstat(vmnt); !os.IsNotExist(err) {
		t.Errorf("the VDB's mount is still there: %v", err)
	}
	c.mustComplete("delete ds", c.call("POST", "delphix/database/ds/delete", nil))
	if n := len(c.list("delphix/snapshot")); n != 0 {
		t.Errorf("%d snapshots left", n)
	}

	// The plugin's logs are in its log directory, hierarchically.
	dir, _ := store.PluginLogDir(te.dir, enginetest.DefaultID)
	info := readFile(t, filepath.Join(dir, exec.InfoLogFile))
	debug := readFile(t, filepath.Join(dir, exec.DebugLogFile))
	if !strings.Contains(info, "INFO [linked.start_staging] starting staging") || !strings.Contains(debug, "starting staging") {
		t.Errorf("info.log:\n%s", info)
	}
	if !strings.Contains(debug, "engine: run_bash on here") || strings.Contains(info, "engine: run_bash") {
		t.Errorf("debug.log misses the library trace, or info.log has it")
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, exec.ErrorLogFile)), "stopping staging without the operation's context") {
		t.Errorf("error.log misses the WARN record")
	}
}

func TestPluginFailuresFailTheJobAndTheEngineGoesOn(t *testing.T) {
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	if env := c.upload(stagedArtifact(t, enginetest.DefaultID, "staged", testPlugin(t, "staged"))); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	c.mustComplete("environment", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	repo := c.list("delphix/repository")[0]["reference"].(string)
	tmp := t.TempDir()
	sc := resultString(t, c.call("POST", "delphix/sourceconfig", map[string]any{"repository": repo, "parameters": map[string]any{"path": filepath.Join(tmp, "missing")}}))

	// A UserError from pre-snapshot (the copy fails): its message and action.
	state, events := c.runJob(c.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": sc,
		"parameters": map[string]any{"mountLocation": filepath.Join(tmp, "mnt")}}))
	last := events[len(events)-1]
	if state != "FAILED" || !strings.Contains(last, "linked.pre_snapshot() failed: Could not copy the files.") || !strings.Contains(last, "[action: Check the source path.") {
		t.Errorf("link: %s\n%s", state, strings.Join(events, "\n"))
	}
	if n := len(c.list("delphix/snapshot")); n != 0 {
		t.Errorf("a failed sync left %d snapshots", n)
	}

	// A panicking plugin: discovery fails with the panic.
	panics := enginetest.Artifact(enginetest.Options{ID: "1a2b3c4d-0000-4000-8000-000000000001", Name: "panics", Staged: true, Binary: testPlugin(t, "panics")}, nil)
	doc, _ := artifact.Marshal(panics)
	if env := c.upload(doc); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	state, events = c.runJob(c.call("POST", "delphix/environment/here/refresh", nil))
	if state != "FAILED" || !strings.Contains(events[len(events)-1], "panicked") {
		t.Errorf("refresh with a panicking plugin: %s\n%s", state, strings.Join(events, "\n"))
	}
	if n := len(c.list("delphix/environment")); n != 1 {
		t.Errorf("the engine lists %d environments after the panic", n)
	}
	// The failed action carries the failure too.
	env := c.call("GET", "delphix/environment/here", nil)
	if env.Type != "OKResult" {
		t.Errorf("the engine does not answer after the panic: %+v", env)
	}
}

func TestDirectSyncUsesRunSync(t *testing.T) {
	te := startEngine(t, "", func(c *Config) { c.Clock = nil })
	c := te.client(t)
	c.login(testPassword)
	a := enginetest.Artifact(enginetest.Options{Binary: testPlugin(t, "direct"), Mutate: func(a *artifact.Artifact) {
		a.DiscoveryDefinition.RepositorySchema = json.RawMessage(`{"type": "object", "properties": {"name": {"type": "string"}}}`)
		a.DiscoveryDefinition.RepositoryIdentityFields, a.DiscoveryDefinition.RepositoryNameField = []string{"name"}, "name"
		a.DiscoveryDefinition.SourceConfigSchema = json.RawMessage(`{"type": "object", "properties": {"path": {"type": "string"}}}`)
		a.DiscoveryDefinition.SourceConfigIdentityFields, a.DiscoveryDefinition.SourceConfigNameField = []string{"path"}, "path"
		a.LinkedSourceDefinition.Parameters = json.RawMessage(`{"type": "object", "properties": {"exclude": {"type": "array", "items": {"type": "string"}}}}`)
		a.Manifest.HasLinkedPreSnapshot = true
	}}, nil)
	doc, _ := artifact.Marshal(a)
	if env := c.upload(doc); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	c.mustComplete("environment", c.call("POST", "delphix/environment", map[string]any{"name": "src", "hostType": "local"}))
	tmp := t.TempDir()
	os.WriteFile(filepath.Join(tmp, "keep.txt"), []byte("k"), 0o644)
	os.WriteFile(filepath.Join(tmp, "skip.txt"), []byte("s"), 0o644)
	sc := resultString(t, c.call("POST", "delphix/sourceconfig", map[string]any{"environment": "src", "repository": "src", "parameters": map[string]any{"path": tmp}}))
	c.mustComplete("link", c.call("POST", "delphix/database/link", map[string]any{"name": "d", "sourceConfig": sc, "parameters": map[string]any{"exclude": []string{"skip.txt"}}}))
	snaps := c.list("delphix/snapshot?database=d")
	if len(snaps) != 1 {
		t.Fatalf("snapshots: %v", snaps)
	}
	dir := snaps[0]["storage"].(string)
	if readFile(t, filepath.Join(dir, "keep.txt")) != "k" {
		t.Error("the snapshot misses keep.txt")
	}
	if _, err := os.Stat(filepath.Join(dir, "skip.txt")); !os.IsNotExist(err) {
		t.Error("the snapshot has the excluded file")
	}
}
