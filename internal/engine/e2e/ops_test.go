//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
)

// TestOperationsThroughTheCLI runs testdata/plugins/recorder — which
// records every operation the engine calls in calls.log of the local
// environment's scratch path — through the CLI: discovery, link, sync
// (its snapshot on stdout), sizes in lists and status, an empty VDB
// (virtual.initialize), linked.worker at a short interval, and the
// refusals of source-config delete/update and environment update; the
// engine sandboxes the plugin and its commands as it always does.
func TestOperationsThroughTheCLI(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "recorder")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./testdata/plugins/recorder")
	build.Dir = filepath.Join("..", "..", "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the recorder: %v\n%s", err, out)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := artifact.Marshal(enginetest.RecorderArtifact(code, nil))
	if err != nil {
		t.Fatal(err)
	}
	art := filepath.Join(root, "artifact.json")
	os.WriteFile(art, doc, 0o600)

	e := startEngine(t, filepath.Join(root, "data"), "--worker-interval", "100ms")
	eng := []string{"-e", e.url, "-u", "admin"}
	run := func(args ...string) result { t.Helper(); return dvp(t, nil, append(args, eng...)...) }
	must := func(args ...string) result {
		t.Helper()
		r := run(args...)
		if r.code != 0 {
			t.Fatalf("dvp %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r
	}
	must("upload", "-a", art, "--wait")
	must("environment", "add", "here", "--local")
	var envs []struct{ ScratchPath string }
	json.Unmarshal([]byte(must("environment", "list", "-o", "json").stdout), &envs)
	scratch := envs[0].ScratchPath
	d1 := filepath.Join(scratch, "repos", "r1", "d1")
	os.MkdirAll(d1, 0o755)
	os.WriteFile(filepath.Join(d1, "a.txt"), []byte("a"), 0o644)
	must("environment", "refresh", "here")
	if r := must("source-config", "list"); !strings.Contains(r.stdout, d1) {
		t.Fatalf("discovery did not find d1:\n%s", r.stdout)
	}
	recorded := func() string { b, _ := os.ReadFile(filepath.Join(scratch, "calls.log")); return string(b) }

	mnt := filepath.Join(root, "mnt")
	must("dsource", "link", "ds", "--source-config", d1, "--params", `{"mountLocation": "`+mnt+`/ds"}`)
	// sync prints the snapshot it took, which the snapshot list shows last.
	snap := strings.TrimSpace(must("dsource", "sync", "ds").stdout)
	if !regexp.MustCompile(`^APPDATA_SNAPSHOT-\d+$`).MatchString(snap) {
		t.Fatalf("dsource sync printed %q", snap)
	}
	if list := must("snapshot", "list", "ds").stdout; !strings.HasPrefix(strings.Split(strings.TrimSpace(list), "\n")[1], snap+"\t") {
		t.Errorf("the synced snapshot %s is not the last of\n%s", snap, list)
	}
	if r := must("dsource", "list"); !regexp.MustCompile(`(?m)^APPDATA_CONTAINER-\d+\tds\tDSOURCE\tACTIVE\ttrue\t4096$`).MatchString(r.stdout) {
		t.Errorf("dsource list (the size last):\n%s", r.stdout)
	}
	if r := must("dsource", "status", "ds"); r.stdout != "ACTIVE\n" {
		t.Errorf("dsource status printed %q", r.stdout)
	}
	if r := must("dsource", "status", "ds", "-o", "json"); !strings.Contains(r.stdout, `"status": "ACTIVE"`) || !strings.Contains(r.stdout, `"size": 4096`) {
		t.Errorf("dsource status -o json:\n%s", r.stdout)
	}

	// An empty VDB: the plugin's initialize ran on its mount.
	r := must("vdb", "create-empty", "e", "--environment", "here", "--repository", "r1", "--params", `{"mountLocation": "`+mnt+`/e"}`)
	if !regexp.MustCompile(`^APPDATA_CONTAINER-\d+\n$`).MatchString(r.stdout) || !strings.Contains(recorded(), "virtual.initialize mount="+mnt+"/e repository=r1") {
		t.Errorf("create-empty: %q\ncalls:\n%s", r.stdout, recorded())
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "e", "INITIALIZED")); err != nil || string(b) != "empty\n" {
		t.Errorf("the empty VDB's mount: %q %v", b, err)
	}
	if r := must("vdb", "snapshot", "e"); !regexp.MustCompile(`^APPDATA_SNAPSHOT-\d+\n$`).MatchString(r.stdout) {
		t.Errorf("vdb snapshot printed %q", r.stdout)
	}
	if r := run("vdb", "refresh", "e"); r.code != 1 || !strings.Contains(r.stderr, "was created empty") {
		t.Errorf("refresh of an empty VDB: exit %d\n%s", r.code, r.stderr)
	}

	// The worker runs at the engine's interval (bounded: the work is
	// waited for, not the time).
	for i := 0; strings.Count(recorded(), "linked.worker") < 2; i++ {
		if i > 1500 {
			t.Fatalf("linked.worker never ran twice; calls:\n%s", recorded())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Refusals that name what would be orphaned.
	if r := run("source-config", "delete", d1); r.code != 1 || !strings.Contains(r.stderr, "is used by dSource ds.") || !strings.Contains(r.stderr, "dvp dsource delete ds") {
		t.Errorf("deleting a linked source config: exit %d\n%s", r.code, r.stderr)
	}
	if r := run("source-config", "update", d1, "--params", `{"path": "/elsewhere"}`); r.code != 1 || !strings.Contains(r.stderr, "was discovered") {
		t.Errorf("updating a discovered source config: exit %d\n%s", r.code, r.stderr)
	}
	if r := run("environment", "update", "here", "--port", "2222"); r.code != 1 || !strings.Contains(r.stderr, "is this host (--local)") {
		t.Errorf("updating a local environment: exit %d\n%s", r.code, r.stderr)
	}
	if r := run("environment", "delete", "here"); r.code != 1 || !strings.Contains(r.stderr, "is used by dSource ds, VDB e.") {
		t.Errorf("deleting a used environment: exit %d\n%s", r.code, r.stderr)
	}
	// A delete prints the reference of what it deleted; -o json says what.
	if r := must("vdb", "delete", "e"); !regexp.MustCompile(`^APPDATA_CONTAINER-\d+\n$`).MatchString(r.stdout) || !strings.Contains(r.stderr, "Deleted VDB e.") {
		t.Errorf("vdb delete: %q %q", r.stdout, r.stderr)
	}
	must("dsource", "delete", "ds")
	if r := must("source-config", "delete", d1, "-o", "json"); !regexp.MustCompile(`"result": "APPDATA_SOURCE_CONFIG-\d+",\n\s+"deleted": \{\n\s+"type": "source config",`).MatchString(r.stdout) {
		t.Errorf("source-config delete -o json: %q", r.stdout)
	}
	if r := must("dsource", "list"); r.stdout != "" || !strings.Contains(r.stderr, "No dSources or VDBs.") {
		t.Errorf("the empty list: %q %q", r.stdout, r.stderr)
	}
}
