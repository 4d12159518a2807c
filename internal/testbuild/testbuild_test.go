package testbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A program is built once per content: the same sources find the entry
// built before; a changed source is a new entry, never the old executable.
func TestBinariesAreKeyedByContent(t *testing.T) {
	rootOverride = t.TempDir()
	t.Cleanup(func() { removeTree(rootOverride); rootOverride = "" })
	src := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/hello\n\ngo 1.21\n")
	write("main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"one\") }\n")
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "CGO_ENABLED=0")
	run := func(dir string) string {
		t.Helper()
		out, err := exec.Command(filepath.Join(dir, "hello")).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}

	first, err := Binaries(src, env, []string{"-trimpath"}, ".")
	if err != nil {
		t.Fatal(err)
	}
	if got := run(first); got != "one" {
		t.Fatalf("first build prints %q", got)
	}
	if fi, err := os.Stat(filepath.Join(first, "hello")); err != nil || fi.Mode().Perm()&0o222 != 0 {
		t.Fatalf("the cached executable is writable or missing: %v %v", fi.Mode(), err)
	}
	again, err := Binaries(src, env, []string{"-trimpath"}, ".")
	if err != nil || again != first {
		t.Fatalf("unchanged sources: %q, %v; want the entry %q", again, err, first)
	}

	write("main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"two\") }\n")
	changed, err := Binaries(src, env, []string{"-trimpath"}, ".")
	if err != nil {
		t.Fatal(err)
	}
	if changed == first {
		t.Fatal("a changed source found the old entry")
	}
	if got := run(changed); got != "two" {
		t.Fatalf("rebuilt program prints %q", got)
	}
	// Other flags are other executables.
	if k1, err := cacheKey(src, env, []string{"-trimpath"}, []string{"."}); err != nil {
		t.Fatal(err)
	} else if k2, err := cacheKey(src, env, []string{"-trimpath", "-ldflags=-s"}, []string{"."}); err != nil || k1 == k2 {
		t.Fatalf("flags do not change the key (%v)", err)
	}
	// A broken program is an error, and no entry.
	write("main.go", "package main\n\nfunc main() { undefined() }\n")
	if _, err := Binaries(src, env, []string{"-trimpath"}, "."); err == nil || !strings.Contains(err.Error(), "undefined") {
		t.Fatalf("broken program: %v", err)
	}
}

func removeTree(dir string) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	os.RemoveAll(dir)
}

// The cache stays under maxBytes: entries nobody used for keep go, then
// the least recently used ones, but never the entry just built nor one
// used within inUse (a running test may hold it).
func TestPruneBoundsTheCache(t *testing.T) {
	root := t.TempDir()
	const size = 1000
	old := maxBytes
	maxBytes = 2*size + size/2
	t.Cleanup(func() { maxBytes = old })
	entry := func(name string, age time.Duration) {
		t.Helper()
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "plugin"), make([]byte, size), 0o555); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+".lock", nil, 0o600); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-age)
		if err := os.Chtimes(dir, at, at); err != nil {
			t.Fatal(err)
		}
	}
	entry("new", 5*time.Hour) // the entry just built (its age does not matter)
	entry("recent", 2*time.Hour)
	entry("older", 3*time.Hour)
	entry("running", 10*time.Minute)
	entry("expired", keep+time.Hour)
	entry("tmp-crashed", keep+time.Hour)
	entry("tmp-building", time.Minute)
	prune(root, "new")
	var left []string
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{"new", "new.lock", "running", "running.lock", "tmp-building", "tmp-building.lock"}
	if strings.Join(left, " ") != strings.Join(want, " ") {
		t.Fatalf("left %v, want %v", left, want)
	}
}

// With -trimpath the executables hold no path, and the key none either:
// the same sources elsewhere (another checkout) find the same entry.
// Without it, they are another entry.
func TestKeyIgnoresTheCheckoutsPlaceWithTrimpath(t *testing.T) {
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "CGO_ENABLED=0")
	var dirs []string
	for range 2 {
		src := filepath.Join(t.TempDir(), "checkout")
		if err := os.MkdirAll(filepath.Join(src, "lib"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string]string{
			"go.mod":     "module example.com/hello\n\ngo 1.21\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ./lib\n",
			"main.go":    "package main\n\nimport \"example.com/lib\"\n\nfunc main() { lib.Hello() }\n",
			"lib/go.mod": "module example.com/lib\n\ngo 1.21\n",
			"lib/lib.go": "package lib\n\nfunc Hello() { println(\"hello\") }\n",
		} {
			if err := os.WriteFile(filepath.Join(src, filepath.FromSlash(name)), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dirs = append(dirs, src)
	}
	key := func(dir string, flags ...string) string {
		t.Helper()
		k, err := cacheKey(dir, env, flags, []string{"."})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if a, b := key(dirs[0], "-trimpath"), key(dirs[1], "-trimpath"); a != b {
		t.Errorf("with -trimpath, two checkouts have the keys %s and %s", a, b)
	}
	if a, b := key(dirs[0]), key(dirs[1]); a == b {
		t.Errorf("without -trimpath, two checkouts share the key %s", a)
	}
}
