package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The tmp/ clean-up at start-up never follows a link: neither one at tmp
// itself (a mount path once made there pointed into a VDB's data) nor one
// in it.
func TestRecoverTmpFollowsNoLink(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	precious := t.TempDir()
	for _, f := range []string{"a", "sub/b"} {
		os.MkdirAll(filepath.Join(precious, filepath.Dir(f)), 0o755)
		if err := os.WriteFile(filepath.Join(precious, f), []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(dir, TmpDir)
	os.WriteFile(filepath.Join(tmp, "upload-1"), []byte("partial"), 0o600)
	os.Symlink(precious, filepath.Join(tmp, "link"))
	os.Symlink(filepath.Join(precious, "sub"), filepath.Join(tmp, "sublink"))
	n, _, err := s.Recover(time.Now())
	if err != nil || n != 3 {
		t.Fatalf("removed %d, %v; want the 3 entries", n, err)
	}
	// tmp itself a link to the data.
	if err := os.Remove(tmp); err != nil {
		t.Fatal(err)
	}
	os.Symlink(precious, tmp)
	if _, _, err := s.Recover(time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a", "sub/b"} {
		if b, err := os.ReadFile(filepath.Join(precious, f)); err != nil || string(b) != "data" {
			t.Errorf("%s was touched: %q %v", f, b, err)
		}
	}
	if fi, err := os.Lstat(tmp); err != nil || !fi.IsDir() {
		t.Errorf("tmp is not a directory again: %v", err)
	}
}
