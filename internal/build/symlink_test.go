package build

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSymlinkOutOfSourcesLeftOut: a project from elsewhere links a file of
// its source directory to a file outside it (here a stand-in for
// ~/.ssh/id_rsa): dvp build would have packed that file into the artifact,
// which is then uploaded and shared. It is left out, with a warning naming
// the link, its target and what to do; links inside the source directory
// are still followed.
func TestSymlinkOutOfSourcesLeftOut(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	src := filepath.Join(root, "project", "src")
	for _, d := range []string{filepath.Join(home, ".ssh"), filepath.Join(src, "pkg")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	key := filepath.Join(home, ".ssh", "id_rsa")
	os.WriteFile(key, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"), 0o600)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n"), 0o644)
	os.WriteFile(filepath.Join(src, "pkg", "data.txt"), []byte("data\n"), 0o644)
	for link, target := range map[string]string{
		"key":           key,                                                       // absolute, out
		"pkg/rel-key":   filepath.Join("..", "..", "..", "home", ".ssh", "id_rsa"), // relative, out
		"data-link.txt": filepath.Join("pkg", "data.txt"),                          // inside: followed
		"pkg/up":        filepath.Join("..", "main.go"),                            // inside, through ..
	} {
		if err := os.Symlink(target, filepath.Join(src, link)); err != nil {
			t.Fatal(err)
		}
	}
	files, ps := sourceFiles(src, nil)
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimPrefix(f.Name, SourcesPrefix))
	}
	want := "data-link.txt main.go pkg/data.txt pkg/up"
	if strings.Join(names, " ") != want {
		t.Errorf("packed %q; want %q", strings.Join(names, " "), want)
	}
	var warned []string
	for _, p := range ps {
		if strings.Contains(p.Message, "left out of the artifact: a symbolic link to "+key+", outside the source directory "+src) &&
			strings.Contains(p.Message, "copy the file into the source directory") {
			warned = append(warned, filepath.Base(p.File))
		}
	}
	if strings.Join(warned, " ") != "key rel-key" {
		t.Errorf("problems %v; want a warning for key and pkg/rel-key naming the target and the source directory", ps)
	}
}

// TestProjectFilesReadBounded: the project files dvp build reads itself
// (go.mod, the entry point's Go file, the record of the last build) could
// be, in a project from elsewhere, links to /dev/zero or huge: each is
// read up to a bound, and refused (or, for the record, ignored) beyond.
func TestProjectFilesReadBounded(t *testing.T) {
	src := t.TempDir()
	big := append([]byte("module example.com/p\n\ngo 1.26\n"), bytes.Repeat([]byte("// padding\n"), (maxGoMod/11)+1)...)
	os.WriteFile(filepath.Join(src, "go.mod"), big, 0o644)
	if _, ps := checkGoMod(src); len(ps) != 1 || !strings.Contains(ps[0].Message, "larger than 16 MiB") {
		t.Errorf("a go.mod of %d bytes: %v; want it refused as larger than 16 MiB", len(big), ps)
	}
	os.Remove(filepath.Join(src, "go.mod"))
	os.Symlink("/dev/zero", filepath.Join(src, "go.mod"))
	if _, ps := checkGoMod(src); len(ps) != 1 || !strings.Contains(ps[0].Message, "is a device, not a regular file") {
		t.Errorf("a go.mod linked to /dev/zero: %v", ps)
	}
	work := t.TempDir()
	os.Symlink("/dev/zero", filepath.Join(work, stateName))
	if st := loadState(work); st != nil {
		t.Errorf("a record linked to /dev/zero was read: %+v", st)
	}
}

// TestRecordFromElsewhereIgnored: a project from elsewhere ships
// .dvp/build/state.json (with an artifact it made, and a record that
// vouches for it): the record names the work directory it was written in,
// so the copy is not this project's record and the build does all its
// work, writing the artifact from the sources.
func TestRecordFromElsewhereIgnored(t *testing.T) {
	if dvpIdentity() == "" || statStamp(t.TempDir()) == nil {
		t.Skip("no build ID or no stamps here")
	}
	here, there := t.TempDir(), t.TempDir()
	if err := saveState(there, &buildState{ArtifactPath: "artifact.json", ArtifactSHA256: "forged"}); err != nil {
		t.Fatal(err)
	}
	if st := loadState(there); st == nil || st.ArtifactSHA256 != "forged" {
		t.Fatalf("the record is not read where it was written: %+v", st)
	}
	b, err := os.ReadFile(filepath.Join(there, stateName))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(here, stateName), b, 0o644)
	if st := loadState(here); st != nil {
		t.Errorf("a record copied from another work directory was read: %+v", st)
	}
}
