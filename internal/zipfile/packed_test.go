package zipfile

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
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

// TestPackStoredFile: a file packed from its path (read in pieces, never
// whole) gives the ZIP bytes of the same content packed from memory, its
// sha256 and a ZIP that reads back; it can be written twice; a file that
// changed after it was packed (same size, other bytes; grown; shrunk)
// fails the write instead of giving an entry that does not match its
// header; Close releases it.
func TestPackStoredFile(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	data := make([]byte, 3*storedBuffer+17)
	rng.Read(data)
	path := filepath.Join(t.TempDir(), "plugin")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	files := []File{{Name: "a.txt", Data: []byte("a")}, {Name: "plugin", Mode: 0o755}}
	mem, err := Pack(data, StoreLevel)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := WritePacked(&want, files, map[string]*PackedFile{"plugin": mem}); err != nil {
		t.Fatal(err)
	}
	p, err := PackStoredFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.SHA256() != mem.SHA256() {
		t.Errorf("sha256 %s, from memory %s", p.SHA256(), mem.SHA256())
	}
	for i := 0; i < 2; i++ {
		var got bytes.Buffer
		if err := WritePacked(&got, files, map[string]*PackedFile{"plugin": p}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("write %d: the ZIP of the file packed from its path differs from the one packed from memory", i+1)
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(want.Bytes()), int64(want.Len()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open("plugin")
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("the stored entry reads back wrong (%v)", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := WritePacked(io.Discard, files, map[string]*PackedFile{"plugin": p}); err == nil {
		t.Errorf("a closed packed file was written")
	}

	changed := map[string]func([]byte) []byte{
		"same size": func(b []byte) []byte { c := bytes.Clone(b); c[len(c)/2] ^= 1; return c },
		"grown":     func(b []byte) []byte { return append(bytes.Clone(b), 'x') },
		"shrunk":    func(b []byte) []byte { return b[:len(b)-1] },
	}
	for name, change := range changed {
		if err := os.WriteFile(path, data, 0o755); err != nil {
			t.Fatal(err)
		}
		p, err := PackStoredFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// In place, as a copy over the file would.
		if err := os.WriteFile(path, change(data), 0o755); err != nil {
			t.Fatal(err)
		}
		err = WritePacked(io.Discard, files, map[string]*PackedFile{"plugin": p})
		if err == nil || !strings.Contains(err.Error(), "changed after it was packed") {
			t.Errorf("%s: the write of a changed file gave %v", name, err)
		}
		p.Close()
	}
}

// TestReusedCompressorsWriteTheSameBytes: a compressor taken from the pool
// (after it compressed other data) gives the bytes of a new one, at every
// level the packing uses.
func TestReusedCompressorsWriteTheSameBytes(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	inputs := make([][]byte, 4)
	for i := range inputs {
		inputs[i] = make([]byte, 1000+i*70000)
		for j := range inputs[i] {
			inputs[i][j] = byte(rng.Intn(8) + 'a') // compressible
		}
	}
	for _, level := range []int{flate.DefaultCompression, flate.BestSpeed} {
		for round := 0; round < 3; round++ {
			for i, data := range inputs {
				var fresh bytes.Buffer
				fw, err := flate.NewWriter(&fresh, level)
				if err != nil {
					t.Fatal(err)
				}
				fw.Write(data)
				fw.Close()
				p, err := Pack(data, level)
				if err != nil {
					t.Fatal(err)
				}
				if got := bytes.Join(p.chunks, nil); !bytes.Equal(got, fresh.Bytes()) {
					t.Fatalf("level %d, round %d, input %d: a pooled compressor wrote other bytes", level, round, i)
				}
			}
		}
	}
}
