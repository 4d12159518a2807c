package zipfile

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeZip(t *testing.T, entries map[string][]byte, modes map[string]os.FileMode) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range entries {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(0o755)
		if m, ok := modes[name]; ok {
			h.SetMode(m)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "code.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ExtractFile writes one entry, bounded: an entry that expands beyond the
// limit (1 MiB of zeros compresses to a few KiB) is refused and nothing is
// left at the target; a missing entry and a link are refused.
func TestExtractFileIsBounded(t *testing.T) {
	zp := writeZip(t, map[string][]byte{"plugin": bytes.Repeat([]byte{0}, 1<<20), "small": []byte("hello"), "link": []byte("/etc/passwd")},
		map[string]os.FileMode{"link": os.ModeSymlink | 0o777})
	dir := t.TempDir()
	target := filepath.Join(dir, "plugin")
	if err := ExtractFile(zp, "plugin", target, 1000, 0o755); err == nil || !strings.Contains(err.Error(), "more than 1000 bytes") {
		t.Fatalf("a 1 MiB entry under a 1000-byte limit: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a refused extraction left %v", ents)
	}
	if err := ExtractFile(zp, "plugin", target, 1<<20, 0o755); err != nil {
		t.Fatalf("an entry of exactly the limit: %v", err)
	}
	if st, err := os.Stat(target); err != nil || st.Size() != 1<<20 || st.Mode().Perm() != 0o755 {
		t.Errorf("extracted: %v %v", st, err)
	}
	if err := ExtractFile(zp, "nope", filepath.Join(dir, "nope"), 1<<20, 0o755); err == nil {
		t.Error("a missing entry was extracted")
	}
	if err := ExtractFile(zp, "link", filepath.Join(dir, "link"), 1<<20, 0o755); err == nil {
		t.Error("a link entry was extracted")
	}
	whole := writeZip(t, map[string][]byte{"a": bytes.Repeat([]byte{0}, 600), "b": bytes.Repeat([]byte{0}, 600)}, nil)
	if err := Extract(whole, t.TempDir(), 1<<10); err == nil || !strings.Contains(err.Error(), "more than 1024 bytes") {
		t.Errorf("Extract: two entries of 600 bytes under a 1024-byte limit: %v", err)
	}
}
