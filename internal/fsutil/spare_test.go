//go:build linux

package fsutil

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func writeSpare(t *testing.T, path, spare, content string) {
	t.Helper()
	if err := WriteReaderSpare(path, spare, strings.NewReader(content), 0o644, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != content {
		t.Fatalf("%s holds %q, not %q", path, got, content)
	}
}

// TestWriteReaderSpare: the file a write replaces is kept as the spare
// and the write after the next is made in it (the same inode, cut to the
// new length), leaving no temporary file; a spare that something still
// has open (a reader of an older artifact), that has another name (the
// user's hard link), or that is a symbolic link, is never written: the
// reader keeps its bytes, the other name and the link's target theirs.
func TestWriteReaderSpare(t *testing.T) {
	dir, work := t.TempDir(), t.TempDir()
	path, spare := filepath.Join(dir, "artifact.json"), filepath.Join(work, "artifact.spare")

	writeSpare(t, path, spare, "one, the longest of them all")
	first := inode(t, path)
	writeSpare(t, path, spare, "two")
	if inode(t, spare) != first {
		t.Fatalf("the replaced file was not kept as the spare")
	}
	second := inode(t, path)
	writeSpare(t, path, spare, "three")
	if inode(t, path) != first {
		t.Errorf("the spare was not written into")
	}
	if inode(t, spare) != second {
		t.Errorf("the second file is not the spare")
	}
	for _, d := range []string{dir, work} {
		ents, _ := os.ReadDir(d)
		if len(ents) != 1 {
			t.Errorf("%s holds %d files", d, len(ents))
		}
	}

	// A reader of the file now replaced (the second, "three" replaced it
	// and made it the spare) holds it open: the next writes leave it.
	r, err := os.Open(spare)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	writeSpare(t, path, spare, "four")
	writeSpare(t, path, spare, "five")
	writeSpare(t, path, spare, "six")
	if got, _ := io.ReadAll(r); string(got) != "two" {
		t.Errorf("the reader of a replaced file read %q, not %q", got, "two")
	}

	// The user's hard link to the artifact.
	keep := filepath.Join(t.TempDir(), "release.json")
	if err := os.Link(path, keep); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	for _, c := range []string{"seven", "eight", "nine"} {
		writeSpare(t, path, spare, c)
	}
	if got, _ := os.ReadFile(keep); string(got) != "six" {
		t.Errorf("the other name of a replaced file holds %q, not %q", got, "six")
	}

	// A spare that is a symbolic link.
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, []byte("the target"), 0o644)
	os.Remove(spare)
	if err := os.Symlink(target, spare); err != nil {
		t.Fatal(err)
	}
	writeSpare(t, path, spare, "ten")
	writeSpare(t, path, spare, "eleven")
	if got, _ := os.ReadFile(target); !bytes.Equal(got, []byte("the target")) {
		t.Errorf("the target of a spare that is a link holds %q", got)
	}
}

// TestWriteReaderSpareOwnName: a write whose file is the spare's own name
// (or its link's) is an ordinary atomic write: the file before it is not
// removed first nor written into.
func TestWriteReaderSpareOwnName(t *testing.T) {
	work := t.TempDir()
	spare := filepath.Join(work, "artifact.spare")
	for _, path := range []string{spare, spare + ".next"} {
		os.WriteFile(path, []byte("before"), 0o644)
		r, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		before := inode(t, path)
		writeSpare(t, path, spare, "after")
		if inode(t, path) == before {
			t.Errorf("%s was written in place", path)
		}
		if got, _ := io.ReadAll(r); string(got) != "before" {
			t.Errorf("the file before %s holds %q", path, got)
		}
		r.Close()
	}
}
