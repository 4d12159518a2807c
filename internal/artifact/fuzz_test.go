package artifact_test

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/schema"
	"github.com/dvpkit/dvp/internal/zipfile"
)

// FuzzArtifactJSON feeds arbitrary bytes to every reader of artifact.json:
// the streaming Scan (with sourceCode streamed through base64 and
// CheckSourceZip, as the engine does), CheckFields, CheckEngineAPI and the
// whole-document Decode. None may panic; a document Scan accepts has every
// key it lists, and CheckFields returns an artifact exactly when it reports
// no error.
//
//	go test -run '^$' -fuzz '^FuzzArtifactJSON$' -fuzztime 5m -parallel 1 ./internal/artifact/
func FuzzArtifactJSON(f *testing.F) {
	f.Add(enginetest.Bytes(enginetest.Options{}))
	f.Add(enginetest.Bytes(enginetest.Options{Staged: true, BuildNumber: "2.0.1", MigrationIDs: []string{"1", "2.1"}}))
	f.Add([]byte(`{"type": "Plugin", "sourceCode": "QUJD\/REVG\u0047", "engineApi": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}}`))
	f.Add([]byte(`{"engineApi": {"type": "APIVersion", "major": 1e400, "minor": -0, "micro": 1.5}, "engineApi": null}`))
	f.Add([]byte(`{"sourceCode": "\ud800\udc00\u0000", "manifest": {"type": "PluginManifest"}, "discoveryDefinition": []}`))
	f.Add([]byte(`[1, 2]`))
	f.Add([]byte(`{"a": "\`))
	f.Add([]byte(`{"linkedSourceDefinition": {"type": "LinkedSourceDefinition", "parameters": {"$ref": "http://example.com/x"}}}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var zipped bytes.Buffer
		fields, err := artifact.Scan(bytes.NewReader(data), artifact.ScanOptions{
			MaxFieldBytes: 1 << 20,
			SourceCode: func(r io.Reader) error {
				_, err := io.Copy(&zipped, io.LimitReader(base64.NewDecoder(base64.StdEncoding, r), 1<<20))
				return err
			},
		})
		if err == nil {
			for _, k := range fields.Keys {
				if !fields.Has(k) {
					t.Fatalf("key %q listed but not held", k)
				}
			}
			a, probs := artifact.CheckFields(fields, artifact.CheckOptions{CompileSchema: schema.CheckCompiles})
			if (a == nil) != (len(probs.Errors()) > 0) {
				t.Fatalf("artifact %v with problems %v", a != nil, probs)
			}
			for _, p := range probs {
				if p.Message == "" {
					t.Fatalf("empty problem %+v", p)
				}
			}
			_ = probs.String()
			if raw, ok := fields.Values["engineApi"]; ok {
				artifact.CheckEngineAPI(raw)
			}
			if zipped.Len() > 0 {
				artifact.CheckSourceZip(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()), artifact.ZipLimits{MaxEntries: 100, MaxUncompressed: 4 << 20})
			}
		} else if err.Error() == "" {
			t.Fatal("empty error")
		}
		if a, err := artifact.Decode(bytes.NewReader(data)); err == nil {
			// A decoded artifact encodes again (Decode used to accept
			// invalid UTF-8 that Marshal refuses: found by this fuzzer,
			// testdata/fuzz/FuzzArtifactJSON/7adf13cce6888929).
			if _, err := artifact.Marshal(a); err != nil {
				t.Fatalf("re-encoding: %v", err)
			}
		}
	})
}

// FuzzSourceZip feeds arbitrary bytes as a decoded sourceCode ZIP to
// CheckSourceZip and, when it is a ZIP archive at all, to ExtractZip in a
// fresh directory: no panic, no file written outside that directory, and an
// archive CheckSourceZip accepts extracts.
//
//	go test -run '^$' -fuzz '^FuzzSourceZip$' -fuzztime 5m -parallel 1 ./internal/artifact/
func FuzzSourceZip(f *testing.F) {
	f.Add(enginetest.Zip(enginetest.Options{}))
	f.Add(enginetest.Zip(enginetest.Options{Extra: []zipfile.File{{Name: "src/a/b.go", Data: []byte("package a")}, {Name: "res/", Mode: 0o755 | os.ModeDir}}}))
	for _, name := range []string{"../evil", "/abs", "a/../../b", "a\\b", "plugin/x", "C:x", "a//b"} {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, _ := zw.Create(name)
		w.Write([]byte("x"))
		zw.Close()
		f.Add(b.Bytes())
	}
	{ // a symlink entry and duplicated names
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		h := &zip.FileHeader{Name: "link"}
		h.SetMode(os.ModeSymlink | 0o777)
		w, _ := zw.CreateHeader(h)
		w.Write([]byte("/etc/passwd"))
		w, _ = zw.Create("dup")
		w.Write([]byte("1"))
		w, _ = zw.Create("dup")
		w.Write([]byte("2"))
		zw.Close()
		f.Add(b.Bytes())
	}
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, probs := artifact.CheckSourceZip(bytes.NewReader(data), int64(len(data)), artifact.ZipLimits{MaxEntries: 200, MaxUncompressed: 8 << 20})
		if (info == nil) != (len(probs.Errors()) > 0) {
			t.Fatalf("info %v with problems %v", info != nil, probs)
		}
		if _, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err != nil {
			return
		}
		root := t.TempDir()
		zp := filepath.Join(root, "src.zip")
		if err := os.WriteFile(zp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, "out")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		err := zipfile.Extract(zp, dir, 8<<20, artifact.BinaryEntry)
		if info != nil && err != nil && !errors.Is(err, os.ErrExist) {
			t.Fatalf("a checked archive does not extract: %v", err)
		}
		// Nothing but src.zip and out/ in root.
		ents, _ := os.ReadDir(root)
		for _, e := range ents {
			if e.Name() != "src.zip" && e.Name() != "out" {
				t.Fatalf("extraction wrote %s outside its directory", e.Name())
			}
		}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type()&os.ModeSymlink != 0 {
				t.Fatalf("extraction made a symlink %s", p)
			}
			return nil
		})
	})
}
