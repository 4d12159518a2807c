package fsutil

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if err := WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "two" {
		t.Fatalf("read %q, %v", b, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestWriteReaderFailureLeavesTarget(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteReader(p, failingReader{}, 0o644); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("target changed to %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "a"), nil, 0o644); err == nil {
		t.Error("wrote into a missing directory")
	}
}

func TestWriteNewFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key")
	if err := WriteNewFile(p, []byte("k1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteNewFile(p, []byte("k2"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second write: %v, want ErrExist", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "k1" {
		t.Errorf("key %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestRename(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "s"), filepath.Join(dir, "d")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Rename(src, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "x" {
		t.Errorf("dst %q", b)
	}
	if err := Rename(src, dst); err == nil {
		t.Error("renamed a missing file")
	}
}

func TestReplaceDir(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "sdk")
	mk := func(name, content string) string {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "f"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// dst missing: src moves into place.
	if err := ReplaceDir(dst, mk("new1", "1")); err != nil {
		t.Fatal(err)
	}
	// dst present, with a stale .old from an interrupted run.
	mk(".sdk.old", "stale")
	if err := ReplaceDir(dst, mk("new2", "2")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); string(b) != "2" {
		t.Errorf("dst holds %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "sdk" {
		t.Errorf("left behind: %v", entries)
	}
	// src missing: dst is put back.
	if err := ReplaceDir(dst, filepath.Join(dir, "nothing")); err == nil {
		t.Fatal("replaced with a missing directory")
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); string(b) != "2" {
		t.Errorf("after a failed replace dst holds %q", b)
	}
}

// A crash between ReplaceDir's two renames leaves dst missing and its
// previous copy aside: RestoreDir puts it back, and does nothing else.
func TestRestoreDir(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "data")
	if err := RestoreDir(dst); err != nil {
		t.Fatalf("nothing to restore: %v", err)
	}
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("RestoreDir made %s from nothing: %v", dst, err)
	}
	old := filepath.Join(dir, ".data.old")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(old, "f"), []byte("before"), 0o644)
	if err := RestoreDir(dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); string(b) != "before" {
		t.Errorf("after RestoreDir dst holds %q", b)
	}
	if _, err := os.Lstat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the previous copy is still aside: %v", err)
	}
	// dst present: a stale copy aside stays for ReplaceDir to remove.
	os.MkdirAll(old, 0o755)
	os.WriteFile(filepath.Join(old, "f"), []byte("stale"), 0o644)
	if err := RestoreDir(dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); string(b) != "before" {
		t.Errorf("RestoreDir replaced a present dst: it holds %q", b)
	}
}

// TestReplaceDirRenameFailures makes each rename of ReplaceDir fail in turn:
// dst keeps its old content and nothing is left beside it.
func TestReplaceDirRenameFailures(t *testing.T) {
	for _, failAt := range []int{1, 2} {
		parent := t.TempDir()
		dst, src := filepath.Join(parent, "generated"), filepath.Join(parent, ".generated.new")
		for d, v := range map[string]string{dst: "v1", src: "v2"} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, "a.go"), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		calls := 0
		rename := func(from, to string) error {
			calls++
			if calls == failAt {
				return &os.LinkError{Op: "rename", Old: from, New: to, Err: os.ErrPermission}
			}
			return os.Rename(from, to)
		}
		if err := replaceDir(rename, dst, src); !errors.Is(err, os.ErrPermission) {
			t.Fatalf("failing rename %d: err = %v", failAt, err)
		}
		if b, _ := os.ReadFile(filepath.Join(dst, "a.go")); string(b) != "v1" {
			t.Errorf("failing rename %d: dst holds %q", failAt, b)
		}
		var names []string
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if strings.Join(names, ",") != ".generated.new,generated" {
			t.Errorf("failing rename %d: parent holds %v", failAt, names)
		}
	}
}

// chunkedWriterTo writes n bytes in pieces through WriteTo, as dvp build's
// artifact stream does (the path with writeBack).
type chunkedWriterTo struct{ n int }

func (c chunkedWriterTo) Read([]byte) (int, error) { return 0, errors.New("read through WriteTo") }

func (c chunkedWriterTo) WriteTo(w io.Writer) (int64, error) {
	var total int64
	piece := make([]byte, 300<<10)
	for left := c.n; left > 0; {
		k := min(left, len(piece))
		for i := range piece[:k] {
			piece[i] = byte(total + int64(i))
		}
		n, err := w.Write(piece[:k])
		total += int64(n)
		if err != nil {
			return total, err
		}
		left -= k
	}
	return total, nil
}

// TestWriteReaderCommit: commit is asked when every byte is in the
// temporary file, before the target changes; its error leaves the target
// as it was, no temporary file, and is returned; without an error the
// target gets the bytes (several MiB through WriteTo, with the early
// write-back to the disk).
func TestWriteReaderCommit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "artifact.json")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	const size = 5*writeBackChunk + 123
	var seen []string
	check := func() error {
		if b, _ := os.ReadFile(p); string(b) != "old" {
			t.Errorf("the target changed before commit")
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if info, err := e.Info(); err == nil && e.Name() != "artifact.json" && info.Size() == size {
				seen = append(seen, e.Name())
			}
		}
		return nil
	}
	refused := errors.New("not this build's")
	err := WriteReaderCommit(p, chunkedWriterTo{size}, 0o644, func() error { check(); return refused })
	if !errors.Is(err, refused) {
		t.Fatalf("err = %v, want the commit's", err)
	}
	if len(seen) != 1 {
		t.Errorf("at commit, the complete temporary file was not there: %v", seen)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("an abandoned write changed the target")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := WriteReaderCommit(p, chunkedWriterTo{size}, 0o644, check); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || len(b) != size {
		t.Fatalf("read %d bytes, %v", len(b), err)
	}
	for i := range b {
		if b[i] != byte(i%(300<<10)) {
			t.Fatalf("byte %d is %d", i, b[i])
		}
	}
}
