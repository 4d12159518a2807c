//go:build unix

package filelock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A lock held by one open file refuses TryLock through another, and is
// free again once the holder is closed.
func TestLockIsExclusiveUntilClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b := open(), open()
	if err := Lock(a); err != nil {
		t.Fatal(err)
	}
	if err := TryLock(b); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock while another holds the lock: %v, want ErrLocked", err)
	}
	a.Close()
	if err := TryLock(b); err != nil {
		t.Fatalf("TryLock after the holder closed: %v", err)
	}
	c := open()
	if err := TryLock(c); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock while b holds the lock: %v, want ErrLocked", err)
	}
	b.Close()
	if err := Lock(c); err != nil {
		t.Fatal(err)
	}
}
