//go:build unix

package upload

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCheckArtifactRefusesFIFO: an artifact that is a FIFO is refused at
// once (its open used to wait for a writer), saying what it is.
func TestCheckArtifactRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "artifact.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := CheckArtifact(fifo)
	if err == nil || !strings.Contains(err.Error(), "it is a FIFO, not a regular file; give -a the artifact.json that dvp build wrote") {
		t.Fatalf("got %v", err)
	}
	if _, ok := peekEngineAPI(fifo); ok {
		t.Fatal("peekEngineAPI read a FIFO")
	}
}
