package build

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestReadSourcesPacksOnceChanged: sources equal to the known ones (the
// last build's) are only hashed; a source changed (first, in the middle,
// last), added or removed makes every source packed, with the sums of a
// read from scratch.
func TestReadSourcesPacksOnceChanged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a.go", "b.go", "c.go"} {
		write(n, "package main // "+n+"\n")
	}
	known := readSources(dir, nil, true, nil)
	if len(known.ps) > 0 || len(known.packed) != 3 {
		t.Fatalf("from scratch: problems %v, %d packed", known.ps, len(known.packed))
	}
	same := readSources(dir, nil, false, known.sums)
	if same.packed != nil || !slices.Equal(same.sums, known.sums) {
		t.Fatalf("unchanged: packed %v, sums %v, want %v", same.packed != nil, same.sums, known.sums)
	}
	for _, c := range []struct {
		what          string
		change, undo  func()
		wantFileCount int
	}{
		{"the first changed", func() { write("a.go", "package main // A\n") }, func() { write("a.go", "package main // a.go\n") }, 3},
		{"one in the middle changed", func() { write("b.go", "package main // B\n") }, func() { write("b.go", "package main // b.go\n") }, 3},
		{"the last changed", func() { write("c.go", "package main // C\n") }, func() { write("c.go", "package main // c.go\n") }, 3},
		{"one added", func() { write("d.go", "package main\n") }, func() { os.Remove(filepath.Join(dir, "d.go")) }, 4},
		{"one removed", func() { os.Remove(filepath.Join(dir, "c.go")) }, func() { write("c.go", "package main // c.go\n") }, 2},
	} {
		c.change()
		got := readSources(dir, nil, false, known.sums)
		fresh := readSources(dir, nil, true, nil)
		if len(got.packed) != c.wantFileCount || !slices.Equal(got.sums, fresh.sums) || len(got.ps) > 0 {
			t.Errorf("%s: %d packed (want %d), sums %v, from scratch %v, problems %v", c.what, len(got.packed), c.wantFileCount, got.sums, fresh.sums, got.ps)
		}
		for name, p := range got.packed {
			if fp := fresh.packed[name]; fp == nil || p.SHA256() != fp.SHA256() {
				t.Errorf("%s: %s packed otherwise than from scratch", c.what, name)
			}
		}
		c.undo()
	}
	if again := readSources(dir, nil, false, known.sums); again.packed != nil {
		t.Errorf("put back: packed again")
	}
}
