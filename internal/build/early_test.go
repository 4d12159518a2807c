package build

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/diag"
)

// debugLog makes a build log at Debug into buf.
func debugLog(buf *bytes.Buffer) func(*Options) {
	return func(o *Options) {
		o.Log = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// TestCompileStartsBeforeChecksInBuiltProject: in a project built before,
// go build starts before plugin_config.yml is checked (with its values read
// unchecked), so a config that fails its checks has a go build started and
// stopped; the build fails with the config's problem, and leaves the
// artifact, go.mod and go.sum as they were. In a project never built, such a
// config starts no go build and creates no work directory.
func TestCompileStartsBeforeChecksInBuiltProject(t *testing.T) {
	t.Parallel()
	needGo(t)
	badConfig := func(t *testing.T, dir string) {
		edit(t, filepath.Join(dir, "plugin_config.yml"), "pluginType: STAGED", "pluginType: STAGGERED")
	}
	checkFailed := func(t *testing.T, res *Result) {
		t.Helper()
		if !res.Failed() {
			t.Fatalf("a config with pluginType STAGGERED built")
		}
		found := false
		for _, p := range res.Problems {
			if p.Severity == diag.Error && strings.HasSuffix(p.File, "plugin_config.yml") && strings.Contains(p.Message, "STAGGERED") {
				found = true
			}
		}
		if !found {
			t.Errorf("no error about pluginType at plugin_config.yml in %v", res.Problems)
		}
		if len(res.Steps) != 1 || res.Steps[0].Name != "validate" {
			t.Errorf("steps after a failed validation: %v", res.Steps)
		}
	}

	t.Run("built before", func(t *testing.T) {
		t.Parallel()
		dir := builtCopy(t)
		mustSucceed(t, runBuild(t, dir))
		read := func(name string) string {
			data, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
			return string(data)
		}
		art, mod, sum := read("artifact.json"), read("src/go.mod"), read("src/go.sum")
		badConfig(t, dir)
		var log bytes.Buffer
		res := runBuild(t, dir, debugLog(&log))
		checkFailed(t, res)
		if !strings.Contains(log.String(), `msg="go build started" dir=`+filepath.Join(dir, "src")+" early=true") {
			t.Errorf("no go build was started before the checks:\n%s", log.String())
		}
		if read("artifact.json") != art || read("src/go.mod") != mod || read("src/go.sum") != sum {
			t.Errorf("a build that failed its checks changed the artifact, go.mod or go.sum")
		}
		// Fixed, it builds.
		edit(t, filepath.Join(dir, "plugin_config.yml"), "pluginType: STAGGERED", "pluginType: STAGED")
		mustSucceed(t, runBuild(t, dir))
	})

	t.Run("never built", func(t *testing.T) {
		t.Parallel()
		dir := fixture(t)
		badConfig(t, dir)
		var log bytes.Buffer
		res := runBuild(t, dir, debugLog(&log))
		checkFailed(t, res)
		if strings.Contains(log.String(), "go build started") {
			t.Errorf("a project never built ran go build before its checks:\n%s", log.String())
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(WorkDir))); !os.IsNotExist(err) {
			t.Errorf("a failed first build created the work directory (%v)", err)
		}
	})
}
