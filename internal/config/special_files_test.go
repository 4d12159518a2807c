//go:build unix

package config

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadFileRefusesFIFO: a plugin config that is a FIFO is refused at
// once (its open used to wait for a writer), saying what it is.
func TestReadFileRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "plugin_config.yml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	_, ps := ReadFile(fifo)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "it is a FIFO, not a regular file") || ps[0].File != fifo {
		t.Fatalf("got %v", ps)
	}
}
