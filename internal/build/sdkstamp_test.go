//go:build linux

package build

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestTreeStamps: the stamps of a tree change when a file in it is
// written, added, removed, renamed or replaced, and stay the same when
// nothing is; a tree with an entry changed at or after the file system
// clock's time given (fsClock) has none: it is compared by content.
func TestTreeStamps(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.go"), filepath.Join(sub, "b.go")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte("package x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	clockFile := filepath.Join(t.TempDir(), "clock")
	if err := os.WriteFile(clockFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	clock := fsClock(clockFile)
	if clock == 0 {
		t.Fatal("no clock")
	}
	if err := os.WriteFile(a, []byte("package x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st := treeStamps(dir, clock); st != nil {
		t.Fatalf("a tree with a file written after the clock was read has stamps: %+v", st)
	}
	const any = math.MaxInt64
	base := treeStamps(dir, any)
	if len(base) != 4 || base[0].Path != "." {
		t.Fatalf("stamps of a tree of 2 files and 2 directories: %+v", base)
	}
	if again := treeStamps(dir, any); !slices.Equal(again, base) {
		t.Fatalf("stamps changed with nothing changed:\n%+v\n%+v", base, again)
	}
	for _, c := range []struct {
		what   string
		change func() error
	}{
		{"written", func() error { return os.WriteFile(b, []byte("package yy\n"), 0o644) }},
		{"added", func() error { return os.WriteFile(filepath.Join(sub, "c.go"), nil, 0o644) }},
		{"removed", func() error { return os.Remove(filepath.Join(sub, "c.go")) }},
		{"renamed", func() error { return os.Rename(a, filepath.Join(dir, "d.go")) }},
		{"added beside", func() error { return os.WriteFile(filepath.Join(dir, "d.go.new"), []byte("package x\n"), 0o644) }},
		{"moved over", func() error { return os.Rename(filepath.Join(dir, "d.go.new"), filepath.Join(dir, "d.go")) }},
	} {
		before := treeStamps(dir, any)
		if err := c.change(); err != nil {
			t.Fatal(err)
		}
		if after := treeStamps(dir, any); after == nil || slices.Equal(after, before) {
			t.Errorf("%s: the stamps did not change", c.what)
		}
	}
	if treeStamps(filepath.Join(dir, "missing"), any) != nil {
		t.Error("a missing directory has stamps")
	}
}
