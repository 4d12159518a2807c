package codegen

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func genFiles(body string) map[string][]byte {
	return map[string][]byte{
		"doc.go": []byte(Header + "\n\npackage generated\n"),
		"a.go":   []byte(Header + "\n\npackage generated\n\n// " + body + "\n"),
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func TestWriteDirCreatesReplacesAndChecks(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "plugin.go"), []byte("package main\n"), 0o644)
	dir := filepath.Join(src, "generated")

	if stale, err := Stale(dir, genFiles("v1")); err != nil || !stale {
		t.Fatalf("Stale on a missing dir = %v, %v", stale, err)
	}
	if err := WriteDir(dir, genFiles("v1")); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(dirNames(t, dir), ","); got != "a.go,doc.go" {
		t.Fatalf("files = %s", got)
	}
	if got := strings.Join(dirNames(t, src), ","); got != "generated,plugin.go" {
		t.Fatalf("srcDir holds %s (temporary directories left behind?)", got)
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o755 {
		t.Errorf("dir mode %v", info.Mode().Perm())
	}
	if stale, err := Stale(dir, genFiles("v1")); err != nil || stale {
		t.Fatalf("Stale right after WriteDir = %v, %v", stale, err)
	}

	// up to date: nothing is rewritten
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "a.go"), old, old)
	if err := WriteDir(dir, genFiles("v1")); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(filepath.Join(dir, "a.go")); !info.ModTime().Equal(old) {
		t.Errorf("an up-to-date file was rewritten")
	}

	// replaced: new content, files that are no longer generated go away
	files := genFiles("v2")
	delete(files, "doc.go")
	files["b.go"] = []byte(Header + "\npackage generated\n")
	if stale, _ := Stale(dir, files); !stale {
		t.Fatal("Stale = false for different files")
	}
	if err := WriteDir(dir, files); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(dirNames(t, dir), ","); got != "a.go,b.go" {
		t.Fatalf("files = %s", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.go")); !strings.Contains(string(b), "v2") {
		t.Errorf("a.go not replaced")
	}
	if got := strings.Join(dirNames(t, src), ","); got != "generated,plugin.go" {
		t.Fatalf("srcDir holds %s", got)
	}
}

func TestWriteDirRefusesForeignFiles(t *testing.T) {
	for name, setup := range map[string]func(dir string){
		"hand-written file": func(dir string) { os.WriteFile(filepath.Join(dir, "mine.go"), []byte("package generated\n"), 0o644) },
		"header not first":  func(dir string) { os.WriteFile(filepath.Join(dir, "x.go"), []byte("// hi\n"+Header+"\n"), 0o644) },
		"subdirectory":      func(dir string) { os.Mkdir(filepath.Join(dir, "sub"), 0o755) },
		"symlink inside":    func(dir string) { os.Symlink("/etc/passwd", filepath.Join(dir, "l.go")) },
	} {
		t.Run(name, func(t *testing.T) {
			src := t.TempDir()
			dir := filepath.Join(src, "generated")
			if err := WriteDir(dir, genFiles("v1")); err != nil {
				t.Fatal(err)
			}
			setup(dir)
			before := dirNames(t, dir)
			err := WriteDir(dir, genFiles("v2"))
			if err == nil || !strings.Contains(err.Error(), "refusing") {
				t.Fatalf("WriteDir = %v, want a refusal", err)
			}
			if after := dirNames(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("dir changed: %v -> %v", before, after)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "a.go")); !strings.Contains(string(b), "v1") {
				t.Errorf("a generated file was replaced despite the refusal")
			}
			if got := dirNames(t, src); len(got) != 1 {
				t.Errorf("srcDir holds %v", got)
			}
		})
	}
}

func TestWriteDirRefusesSymlinkAndFile(t *testing.T) {
	src := t.TempDir()
	target := t.TempDir()
	link := filepath.Join(src, "generated")
	os.Symlink(target, link)
	if err := WriteDir(link, genFiles("v1")); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("WriteDir on a symlink = %v", err)
	}
	if got := dirNames(t, target); len(got) != 0 {
		t.Errorf("the symlink target was written: %v", got)
	}
	file := filepath.Join(src, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if err := WriteDir(file, genFiles("v1")); err == nil {
		t.Errorf("WriteDir on a file succeeded")
	}
	if stale, err := Stale(file, genFiles("v1")); err != nil || !stale {
		t.Errorf("Stale on a file = %v, %v", stale, err)
	}
}

func TestWriteDirRejectsBadNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "generated")
	for _, n := range []string{"", ".", "..", "a/b.go", `a\b.go`, "../x.go"} {
		if err := WriteDir(dir, map[string][]byte{n: []byte(Header + "\n")}); err == nil {
			t.Errorf("WriteDir accepted the name %q", n)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("dir was created")
	}
}

func TestWriteDirFailureLeavesDirIntact(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	src := t.TempDir()
	dir := filepath.Join(src, "generated")
	if err := WriteDir(dir, genFiles("v1")); err != nil {
		t.Fatal(err)
	}
	os.Chmod(src, 0o555) // cannot create the temporary directory
	defer os.Chmod(src, 0o755)
	if err := WriteDir(dir, genFiles("v2")); err == nil {
		t.Fatal("WriteDir succeeded in a read-only srcDir")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.go")); !strings.Contains(string(b), "v1") {
		t.Errorf("dir changed after a failure")
	}
}

func TestStaleDetectsChanges(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "generated")
	files := genFiles("v1")
	if err := WriteDir(dir, files); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a.go"), []byte("edited"), 0o644)
	if stale, _ := Stale(dir, files); !stale {
		t.Error("an edited file is not stale")
	}
	WriteDir(dir, files) // refuses: a.go lost its header
	os.WriteFile(filepath.Join(dir, "a.go"), files["a.go"], 0o644)
	os.WriteFile(filepath.Join(dir, "extra.go"), []byte(Header+"\n"), 0o644)
	if stale, _ := Stale(dir, files); !stale {
		t.Error("an extra file is not stale")
	}
	os.Remove(filepath.Join(dir, "extra.go"))
	os.Remove(filepath.Join(dir, "doc.go"))
	if stale, _ := Stale(dir, files); !stale {
		t.Error("a missing file is not stale")
	}
}
