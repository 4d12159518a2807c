package build

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/pluginhost"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// The package's tests that need a project built once (to break it, to
// build it again, to compare) start from a copy of one build of the
// runtime-staged fixture instead of building their own: the copy holds the
// compiled plugin, whose Go build ID lets go build see it up to date, so
// a build of the copy with unchanged inputs does not link again. That build
// is TestBuildStaged's subject; TestBuildIsReproducible and
// TestMissingRequiredOperationsWarn still build from scratch.

// builtRoot holds the one build (made by the first test that asks for it)
// and is removed when the tests end.
var builtRoot string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dvp-build-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	builtRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var built struct {
	once sync.Once
	dir  string  // the built project, shared: never change it
	res  *Result // its build
	err  string  // why there is none
}

// builtFixture returns the built runtime-staged project and the result of
// its build. The directory is shared by the package's tests: read it, never
// change it (builtCopy gives a project of one's own).
func builtFixture(t testing.TB) (string, *Result) {
	t.Helper()
	built.once.Do(func() {
		dir := filepath.Join(builtRoot, "runtime-staged")
		if err := copyTree(filepath.Join(repoRoot(t), "testdata", "build", "runtime-staged"), dir); err != nil {
			built.err = err.Error()
			return
		}
		res := runBuild(t, dir)
		if res.Failed() {
			var b strings.Builder
			for _, p := range res.Problems {
				b.WriteString(p.String() + "\n")
			}
			built.err = "building the fixture failed:\n" + b.String()
			return
		}
		built.dir, built.res = dir, res
	})
	if built.err != "" {
		t.Fatal(built.err)
	}
	return built.dir, built.res
}

// builtCopy returns a copy of the built runtime-staged project (its work
// directory and artifact.json included) in a temporary directory of t.
func builtCopy(t testing.TB) string {
	t.Helper()
	dir, _ := builtFixture(t)
	return copyDir(t, dir)
}

// copyTree copies the directory src to dst (which must not exist), with the
// files' permissions.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
}

var printed struct {
	once sync.Once
	m    *protocol.Manifest
	err  error
}

// printedManifest returns the manifest the built runtime-staged plugin
// (builtFixture) prints. It is shared: copy what you change.
func printedManifest(t testing.TB) *protocol.Manifest {
	t.Helper()
	dir, _ := builtFixture(t)
	printed.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		printed.m, printed.err = pluginhost.ReadManifest(ctx, filepath.Join(dir, filepath.FromSlash(WorkDir), "plugin"))
	})
	if printed.err != nil {
		t.Fatal(printed.err)
	}
	return printed.m
}
