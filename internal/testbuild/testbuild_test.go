package testbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
