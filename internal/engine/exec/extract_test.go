package exec

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/store"
)

// The plugin executable is extracted within the runner's limit: a blob
// whose executable expands beyond it is refused and nothing is left.
func TestExtractBinaryIsBounded(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(artifact.BinaryEntry)
	w.Write(bytes.Repeat([]byte{0}, 1<<20))
	zw.Close()
	zp := filepath.Join(t.TempDir(), "code.zip")
	os.WriteFile(zp, buf.Bytes(), 0o600)
	data := t.TempDir()
	rn := &Runner{DataDir: data, MaxCodeBytes: 64 << 10}
	if _, err := rn.ExtractBinary("sum1", zp, "build 1"); err == nil || !strings.Contains(err.Error(), "more than 65536 bytes") {
		t.Fatalf("a 1 MiB executable under a 64 KiB limit: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(data, store.PluginBinDir, "sum1")); len(ents) != 0 {
		t.Errorf("a refused extraction left %v", ents)
	}
	rn.MaxCodeBytes = 1 << 20
	bin, err := rn.ExtractBinary("sum1", zp, "build 1")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(bin); err != nil || st.Size() != 1<<20 {
		t.Errorf("extracted %v %v", st, err)
	}
}
