//go:build unix

package dvptest

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadRefusesFIFO: a spec that is a FIFO is refused at once (its open
// used to wait for a writer), saying what it is and what -f wants.
func TestLoadRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "dvptest.yml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(fifo, nil)
	if err == nil || !strings.Contains(err.Error(), "it is a FIFO, not a regular file; give -f the path of a dvptest.yml file") {
		t.Fatalf("got %v", err)
	}
}
