//go:build unix

package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadRegularRefusesWhatIsNotAFile: a project file that links to
// /dev/zero (endless), is a FIFO (its open waits for a writer) or is larger
// than the bound is refused, saying what it is, without reading it whole.
func TestReadRegularRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("ok"), 0o644)
	if b, err := ReadRegular(small, 16); err != nil || string(b) != "ok" {
		t.Fatalf("a small file: %q %v", b, err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 17), 0o644)
	var tl *ErrTooLarge
	if _, err := ReadRegular(big, 16); !errors.As(err, &tl) {
		t.Errorf("a file over the bound: %v", err)
	}
	zero := filepath.Join(dir, "zero")
	os.Symlink("/dev/zero", zero)
	if _, err := ReadRegular(zero, 1<<20); err == nil || !strings.Contains(err.Error(), "is a device, not a regular file") {
		t.Errorf("a link to /dev/zero: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRegular(fifo, 1<<20); err == nil || !strings.Contains(err.Error(), "is a FIFO, not a regular file") {
		t.Errorf("a FIFO: %v", err)
	}
	if _, err := ReadRegular(dir, 1<<20); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("a directory: %v", err)
	}
}

// TestOpenRegularNeverWaits: a FIFO with no writer is opened without
// waiting and refused (a blocking open would never return here), a
// device likewise, each with a *NotRegularError saying what it is.
func TestOpenRegularNeverWaits(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	var nr *NotRegularError
	if _, _, err := OpenRegular(fifo); !errors.As(err, &nr) || nr.What != "a FIFO" || nr.Path != fifo {
		t.Errorf("a FIFO: %v", err)
	}
	if _, _, err := OpenRegular("/dev/null"); !errors.As(err, &nr) || nr.What != "a device" {
		t.Errorf("/dev/null: %v", err)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("data"), 0o644)
	f, st, err := OpenRegular(file)
	if err != nil || st.Size() != 4 {
		t.Fatalf("a regular file: %v", err)
	}
	f.Close()
}
