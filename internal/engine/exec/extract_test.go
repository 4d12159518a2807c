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

// A retired executable stays while a plugin process holds it and goes
// with the last one; one nothing holds goes at once; one extracted again
// after its retirement stays.
func TestRetireBinaryWaitsForItsProcesses(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(artifact.BinaryEntry)
	w.Write([]byte("#!/bin/sh\n"))
	zw.Close()
	zp := filepath.Join(t.TempDir(), "code.zip")
	os.WriteFile(zp, buf.Bytes(), 0o600)
	rn := &Runner{DataDir: t.TempDir(), MaxCodeBytes: 1 << 20}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }

	bin, err := rn.ExtractBinary("a", zp, "build a")
	if err != nil {
		t.Fatal(err)
	}
	release1, err := rn.holdBinary(bin)
	if err != nil {
		t.Fatal(err)
	}
	release2, _ := rn.holdBinary(bin)
	if err := rn.RetireBinary("a"); err != nil {
		t.Fatal(err)
	}
	release1()
	release1() // twice: counted once
	if !exists(bin) {
		t.Fatal("removed while a process still holds it")
	}
	release2()
	if exists(filepath.Dir(bin)) {
		t.Fatal("kept after the last process ended")
	}
	if _, err := rn.holdBinary(bin); err == nil {
		t.Error("a removed executable was held")
	}

	bin, _ = rn.ExtractBinary("b", zp, "build b")
	if err := rn.RetireBinary("b"); err != nil || exists(filepath.Dir(bin)) {
		t.Fatalf("an executable nothing holds stays after its retirement: %v", err)
	}

	bin, _ = rn.ExtractBinary("c", zp, "build c")
	release, _ := rn.holdBinary(bin)
	rn.RetireBinary("c")
	rn.ExtractBinary("c", zp, "build c") // installed again
	release()
	if !exists(bin) {
		t.Error("an executable extracted again after its retirement was removed")
	}
	if err := rn.RetireBinary("../x"); err == nil {
		t.Error("a code name with a slash was accepted")
	}
}
