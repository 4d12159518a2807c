package pluginhost

import (
	"os"
	"path/filepath"
	"testing"
)

// run_sync's second pass makes the parents of the links to follow inside
// the destination, which the first pass filled (links included): never
// through a link out of it.
func TestMkdirInFollowsNoLinkOut(t *testing.T) {
	dest, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dest, "a")); err != nil {
		t.Fatal(err)
	}
	if err := mkdirIn(dest, "a/b"); err == nil {
		t.Error("made through a link out of the destination")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("made outside the destination: %v", entries)
	}
	if err := mkdirIn(dest, "c/d"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dest, "c", "d")); err != nil || !fi.IsDir() {
		t.Errorf("not made: %v", err)
	}
	if err := mkdirIn(dest, "."); err != nil {
		t.Error(err)
	}
}
