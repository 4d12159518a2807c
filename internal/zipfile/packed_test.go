package zipfile

import (
	"archive/zip"
	"bytes"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// TestSpooledPackingWritesTheSameBytes: a file above spoolThreshold given
// by path is streamed through a spool file; the ZIP is byte for byte the
// one written from the same data in memory (sizes that are and are not a
// multiple of DeflateChunk), and it reads back.
func TestSpooledPackingWritesTheSameBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("packs 66 MiB twice")
	}
	// Spool files go to a directory of this test's own, so that other
	// programs' spool files in the shared temporary directory do not count.
	spoolDir := t.TempDir()
	t.Setenv("TMPDIR", spoolDir)
	rng := rand.New(rand.NewSource(1))
	for _, size := range []int{spoolThreshold + DeflateChunk, spoolThreshold + DeflateChunk + 123} {
		data := make([]byte, size)
		for i := 0; i < size; i += 4096 { // half random, half repeated
			if (i/4096)%2 == 0 {
				rng.Read(data[i:min(i+4096, size)])
			}
		}
		p := filepath.Join(t.TempDir(), "big.bin")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var fromPath, fromData bytes.Buffer
		if err := Write(&fromPath, []File{{Name: "a.txt", Data: []byte("a")}, {Name: "big.bin", Path: p}}); err != nil {
			t.Fatal(err)
		}
		if err := Write(&fromData, []File{{Name: "a.txt", Data: []byte("a")}, {Name: "big.bin", Data: data}}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fromPath.Bytes(), fromData.Bytes()) {
			t.Fatalf("size %d: the spooled ZIP (%d bytes) differs from the in-memory one (%d bytes)", size, fromPath.Len(), fromData.Len())
		}
		zr, err := zip.NewReader(bytes.NewReader(fromPath.Bytes()), int64(fromPath.Len()))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := zr.Open("big.bin")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("size %d: extracted content differs", size)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(spoolDir, "dvp-zip-*")); len(left) > 0 {
		t.Errorf("spool files left: %v", left)
	}
}
