//go:build e2e

package build

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/sdkcopy"
)

// withoutStep is steps without name.
func withoutStep(steps []string, name string) []string {
	var out []string
	for _, s := range steps {
		if s != name {
			out = append(out, s)
		}
	}
	return out
}

// fileID is what changes when a file is replaced or rewritten.
type fileID struct {
	ino   uint64
	mtime int64
	size  int64
}

func idOf(t *testing.T, path string) fileID {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileID{st.Sys().(*syscall.Stat_t).Ino, st.ModTime().UnixNano(), st.Size()}
}

// freshSHA builds a copy of the project without its work directory (no
// compiled plugin, no record of a build): the bytes a build from scratch
// writes.
func freshSHA(t *testing.T, dir string) string {
	t.Helper()
	c := copyDir(t, dir)
	if err := os.RemoveAll(filepath.Join(c, filepath.FromSlash(WorkDir))); err != nil {
		t.Fatal(err)
	}
	res := runBuild(t, c)
	mustSucceed(t, res)
	if res.UpToDate || len(reusedSteps(res)) > 0 {
		t.Fatalf("a build from scratch reused %v", reusedSteps(res))
	}
	return res.SHA256
}

// TestUnchangedBuildReusesWork: a build whose inputs did not change does
// not link (go build's up-to-date check: the binary is the same file), does
// not run the plugin for its manifest, does not pack or write the artifact
// (the same file, same bytes), and reports the same result. Every input of
// the artifact's bytes that changes makes the next build write it again,
// with the bytes a build from scratch writes.
func TestUnchangedBuildReusesWork(t *testing.T) {
	t.Parallel()
	needGo(t)
	dir := fixture(t)
	// A warning (a missing required operation) must be reported by every
	// build, reused or not.
	runner := filepath.Join(dir, "src", "plugin_runner.go")
	const reconfigure = `"virtual.reconfigure": runtime.Adapt(func(ctx context.Context, in virtualIn) (sourceConfig, error) {
			return in.SourceConfig, nil
		}),`
	edit(t, runner, reconfigure, "")
	bin := filepath.Join(dir, filepath.FromSlash(WorkDir), "plugin")
	art := filepath.Join(dir, "artifact.json")
	// go build -x, through a wrapper, prints the commands it runs: linked
	// tells whether the last builds ran the linker.
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "go.log")
	wrapper := filepath.Join(t.TempDir(), "go")
	done := log + ".done" // made when a go build ends
	script := "#!/bin/sh\nshift\n" + goCmd + " build -x \"$@\" 2>>" + log + "\nrc=$?\ntouch " + done + "\nexit $rc\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	linked := func() bool {
		t.Helper()
		data, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(log)
		return regexp.MustCompile(`(?m)/link\s.*-o\s`).Match(data)
	}
	runBuild := func(t *testing.T, dir string, mod ...func(*Options)) *Result {
		t.Helper()
		return runBuild(t, dir, append([]func(*Options){func(o *Options) { o.GoCommand = wrapper }}, mod...)...)
	}

	first := runBuild(t, dir)
	mustSucceed(t, first)
	if first.UpToDate || len(reusedSteps(first)) > 0 {
		t.Fatalf("the first build reused %v", reusedSteps(first))
	}
	if len(messages(first.Problems, diag.Warning)) != 1 {
		t.Fatalf("want one warning, got %v", first.Problems)
	}
	if !linked() {
		t.Fatal("the first build did not link")
	}
	artID := idOf(t, art)

	second := runBuild(t, dir)
	mustSucceed(t, second)
	// The SDK copy's step is reused too when the copy is older than a tick
	// of the file system's clock when the first build read it, which a
	// fixture copied just before may not be (checked below).
	if !second.UpToDate || !slices.Equal(withoutStep(reusedSteps(second), "sdk"), []string{"validate", "generate", "manifest", "package", "write"}) {
		t.Fatalf("unchanged: up to date %v, reused %v", second.UpToDate, reusedSteps(second))
	}
	if linked() {
		t.Errorf("go build linked the plugin again")
	}
	if idOf(t, art) != artID {
		t.Errorf("artifact.json was written again")
	}
	if second.SHA256 != first.SHA256 || second.BinarySHA256 != first.BinarySHA256 || second.GoVersion != first.GoVersion ||
		!slices.Equal(second.Sources, first.Sources) || second.Problems.String() != first.Problems.String() ||
		!reflect.DeepEqual(second.Manifest, first.Manifest) {
		t.Errorf("the reused result differs:\n%+v\n%+v", second, first)
	}

	// Each change below makes the artifact be written again (a new file),
	// with the bytes of a build from scratch.
	rebuilt := func(t *testing.T, what string, mod ...func(*Options)) *Result {
		t.Helper()
		var before fileID
		if _, err := os.Stat(art); err == nil {
			before = idOf(t, art)
		}
		res := runBuild(t, dir, mod...)
		mustSucceed(t, res)
		if res.UpToDate || idOf(t, art) == before {
			t.Fatalf("%s: the artifact was not written again (reused %v)", what, reusedSteps(res))
		}
		return res
	}

	// A source that is not Go: the same binary (not linked, its manifest
	// reused), the sources packed again.
	edit(t, filepath.Join(dir, "src", "resources", "get_date.sh"), "date", "date -u")
	res := rebuilt(t, "a resource")
	if !slices.Equal(withoutStep(reusedSteps(res), "sdk"), []string{"validate", "generate", "manifest"}) || linked() {
		t.Errorf("a resource: reused %v, linked again", reusedSteps(res))
	}
	if fresh := freshSHA(t, dir); res.SHA256 != fresh || res.SHA256 == first.SHA256 {
		t.Errorf("a resource: sha256 %s, from scratch %s, before %s", res.SHA256, fresh, first.SHA256)
	}

	// plugin_config.yml: a field of the artifact.
	edit(t, filepath.Join(dir, "plugin_config.yml"), "externalVersion: \"1.0\"", "externalVersion: \"1.1\"")
	res = rebuilt(t, "plugin_config.yml")
	if fresh := freshSHA(t, dir); res.SHA256 != fresh {
		t.Errorf("plugin_config.yml: sha256 %s, from scratch %s", res.SHA256, fresh)
	}
	good := res.SHA256

	// The dvp version (in the build record).
	res = rebuilt(t, "dvp version", func(o *Options) { o.DvpVersion = "0.2.0-test" })
	if res.SHA256 == good {
		t.Errorf("another dvp version wrote the same bytes")
	}
	mustSucceed(t, runBuild(t, dir)) // back to 0.1.0-test

	// The artifact changed, or removed, by someone else.
	data, err := os.ReadFile(art)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(art, append(data, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	if res = rebuilt(t, "an edited artifact"); res.SHA256 != good {
		t.Errorf("an edited artifact: sha256 %s, want %s", res.SHA256, good)
	}
	// The same size, the modification time put back: the change time
	// still tells.
	mustSucceed(t, runBuild(t, dir))
	st, err := os.Stat(art)
	if err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(art)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-2] = ' '
	if err := os.WriteFile(art, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(art, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if res = rebuilt(t, "an artifact edited in place"); res.SHA256 != good {
		t.Errorf("an artifact edited in place: sha256 %s, want %s", res.SHA256, good)
	}
	// Touched only: the same bytes are not written again.
	future := st.ModTime().Add(time.Hour)
	if err := os.Chtimes(art, future, future); err != nil {
		t.Fatal(err)
	}
	if res = runBuild(t, dir); !res.UpToDate || res.SHA256 != good {
		t.Errorf("a touched artifact: up to date %v, sha256 %s, want %s", res.UpToDate, res.SHA256, good)
	}
	os.Remove(art)
	if res = rebuilt(t, "a removed artifact"); res.SHA256 != good {
		t.Errorf("a removed artifact: sha256 %s, want %s", res.SHA256, good)
	}

	// Another artifact path is written; the first stays.
	other := filepath.Join(dir, "other.json")
	res = runBuild(t, dir, func(o *Options) { o.ArtifactPath = other })
	mustSucceed(t, res)
	if res.UpToDate || res.SHA256 != good {
		t.Errorf("another path: up to date %v, sha256 %s, want %s", res.UpToDate, res.SHA256, good)
	}

	// A damaged record of the last build: all the work again.
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(WorkDir), stateName), []byte("{\"version\": 1, \"dvp\""), 0o644); err != nil {
		t.Fatal(err)
	}
	res = runBuild(t, dir)
	mustSucceed(t, res)
	if len(reusedSteps(res)) > 0 || res.SHA256 != good {
		t.Errorf("damaged record: reused %v, sha256 %s, want %s", reusedSteps(res), res.SHA256, good)
	}

	// The SDK copy changed (in a way that changes the binary): the build
	// puts it back, so the go build that started before must not count.
	sdkFile := filepath.Join(dir, ".dvp", "sdk", "runtime", "runtime.go")
	sdkData, err := os.ReadFile(sdkFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sdkFile, append(sdkData, "\nfunc init() { println(\"changed SDK\") }\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	// The copy is put back only once the go build that started with the
	// changed copy has ended: compile must start it again.
	os.Remove(done)
	res = runBuild(t, dir, func(o *Options) {
		o.SyncSDK = func(root string) (bool, error) {
			for i := 0; i < 6000; i++ {
				if _, err := os.Stat(done); err == nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			return sdkcopy.SyncSDK(root)
		}
	})
	mustSucceed(t, res)
	if !res.UpToDate || res.SHA256 != good {
		t.Errorf("a changed SDK copy: up to date %v, sha256 %s, want %s", res.UpToDate, res.SHA256, good)
	}
	if data, _ := os.ReadFile(sdkFile); string(data) != string(sdkData) {
		t.Errorf("the SDK copy was not put back")
	}
	// With dvp's own SyncSDK, the copy is not read again while its files
	// keep the stamps they had when a build compared them (once they are
	// older than a tick of the file system's clock: the copy was just put
	// back, so the first build compares it, the next reuses); an edited
	// file, or a file added, changes them: the copy is compared and put
	// back.
	time.Sleep(50 * time.Millisecond)
	for i, want := range []bool{false, true} {
		res = runBuild(t, dir)
		mustSucceed(t, res)
		if got := slices.Contains(reusedSteps(res), "sdk"); got != want || !res.UpToDate {
			t.Errorf("an unchanged SDK copy, build %d: sdk reused %v (want %v), up to date %v", i+1, got, want, res.UpToDate)
		}
	}
	extra := filepath.Join(dir, ".dvp", "sdk", "runtime", "extra.go")
	for _, c := range []struct {
		what   string
		change func() error
	}{
		{"an edited SDK file", func() error { return os.WriteFile(sdkFile, append(sdkData, "\n// edited\n"...), 0o644) }},
		{"an added SDK file", func() error { return os.WriteFile(extra, []byte("package runtime\n"), 0o644) }},
	} {
		time.Sleep(50 * time.Millisecond)
		for range 2 { // the first compares the copy put back, the second reuses
			res = runBuild(t, dir)
			mustSucceed(t, res)
		}
		if !slices.Contains(reusedSteps(res), "sdk") {
			t.Fatalf("%s: the SDK copy was compared again before the change", c.what)
		}
		if err := c.change(); err != nil {
			t.Fatal(err)
		}
		res = runBuild(t, dir)
		mustSucceed(t, res)
		if slices.Contains(reusedSteps(res), "sdk") || !res.UpToDate || res.SHA256 != good {
			t.Errorf("%s: reused %v, up to date %v, sha256 %s, want %s", c.what, reusedSteps(res), res.UpToDate, res.SHA256, good)
		}
		if data, _ := os.ReadFile(sdkFile); string(data) != string(sdkData) {
			t.Errorf("%s: the SDK copy was not put back", c.what)
		}
		if _, err := os.Stat(extra); err == nil {
			t.Errorf("%s: the SDK copy keeps a file the SDK does not have", c.what)
		}
	}

	// A generated file edited by hand is generated again; the artifact,
	// with the generated code as it should be, is up to date.
	genDoc := filepath.Join(dir, "src", GeneratedDirName, "doc.go")
	genData, err := os.ReadFile(genDoc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(genDoc, append(genData, "// edited\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	res = runBuild(t, dir)
	mustSucceed(t, res)
	if !res.UpToDate || slices.Contains(reusedSteps(res), "generate") || res.SHA256 != good {
		t.Errorf("an edited generated file: up to date %v, reused %v, sha256 %s, want %s", res.UpToDate, reusedSteps(res), res.SHA256, good)
	}
	if data, _ := os.ReadFile(genDoc); string(data) != string(genData) {
		t.Errorf("the generated file was not put back")
	}

	// schema.json: the generated code and the artifact's schemas.
	edit(t, filepath.Join(dir, "schema.json"), `"name": { "type": "string" }`, `"name": { "type": "string", "description": "the name" }`)
	res = rebuilt(t, "schema.json")
	if slices.Contains(reusedSteps(res), "generate") {
		t.Errorf("schema.json: generate reused")
	}
	if fresh := freshSHA(t, dir); res.SHA256 != fresh {
		t.Errorf("schema.json: sha256 %s, from scratch %s", res.SHA256, fresh)
	}

	// A Go source: linked again, the manifest read from the new binary.
	edit(t, runner, `"virtual.post_snapshot"`, reconfigure+"\n\t\t"+`"virtual.post_snapshot"`)
	// The operations changed: the artifact written ahead with the last
	// manifest is not this build's.
	var debug bytes.Buffer
	withLog := func(o *Options) {
		debug.Reset()
		o.Log = slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	res = rebuilt(t, "a Go source", withLog)
	if !slices.Equal(withoutStep(reusedSteps(res), "sdk"), []string{"validate", "generate"}) || !linked() || len(res.Problems) != 0 {
		t.Errorf("a Go source: reused %v, not linked again, or problems %v", reusedSteps(res), res.Problems)
	}
	if !strings.Contains(debug.String(), "artifact written ahead abandoned") {
		t.Errorf("a Go source with other operations: no write ahead abandoned in\n%s", debug.String())
	}
	if fresh := freshSHA(t, dir); res.SHA256 != fresh {
		t.Errorf("a Go source: sha256 %s, from scratch %s", res.SHA256, fresh)
	}
	// The same operations: the artifact written ahead is kept, and has the
	// bytes of a build from scratch.
	edit(t, runner, `MountPath: "/mnt/" + in.VirtualSource.GUID`, `MountPath: "/mnt/v/" + in.VirtualSource.GUID`)
	res = rebuilt(t, "a Go function body", withLog)
	if !linked() || len(res.Problems) != 0 || !strings.Contains(debug.String(), `msg="artifact written ahead" `) {
		t.Errorf("a Go function body: not linked again, or problems %v, or not written ahead:\n%s", res.Problems, debug.String())
	}
	if fresh := freshSHA(t, dir); res.SHA256 != fresh {
		t.Errorf("a Go function body: sha256 %s, from scratch %s", res.SHA256, fresh)
	}
	if entries, _ := os.ReadDir(dir); len(entries) == 0 || slices.ContainsFunc(entries, func(e os.DirEntry) bool { return strings.Contains(e.Name(), ".tmp") }) {
		t.Errorf("a temporary file is left in %s: %v", dir, entries)
	}

	// A compiled plugin changed behind dvp's back, its build ID kept: go
	// build does not link it again, and dvp refuses to pack it (and
	// removes it) rather than pair it with the manifest of other bytes.
	f, err := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("tampered"))
	f.Close()
	edit(t, filepath.Join(dir, "src", "resources", "get_date.sh"), "date -u", "date")
	before := idOf(t, art)
	res = runBuild(t, dir)
	if !res.Failed() || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "was changed after go build wrote it") || idOf(t, art) != before {
		t.Fatalf("tampered binary: failed %v, problems %v", res.Failed(), res.Problems)
	}
	if _, err := os.Stat(bin); !os.IsNotExist(err) {
		t.Errorf("the tampered binary is still there (%v)", err)
	}
	mustSucceed(t, runBuild(t, dir))
}

// TestGoModUpdateStillMade: the go build that starts before the source
// checks does not update go.mod (-mod=readonly); when it fails for want
// of an update, the build with the usual flags (-mod=mod) makes it, as a
// build always did.
func TestGoModUpdateStillMade(t *testing.T) {
	t.Parallel()
	needGo(t)
	dir := fixture(t)
	mustSucceed(t, runBuild(t, dir)) // the SDK copy and generated code in place: the early go build counts
	gomod := filepath.Join(dir, "src", "go.mod")
	edit(t, gomod, "require github.com/dvpkit/dvp/sdk v0.0.0-dvp\n", "")
	res := runBuild(t, dir)
	mustSucceed(t, res)
	if data, _ := os.ReadFile(gomod); !strings.Contains(string(data), "require github.com/dvpkit/dvp/sdk ") {
		t.Errorf("go.mod was not given the SDK's requirement:\n%s", data)
	}
}
