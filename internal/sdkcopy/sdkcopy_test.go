package sdkcopy

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestFiles(t *testing.T) {
	files, hash, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(hash) != 64 || len(files) < 10 {
		t.Fatalf("%d files, hash %q", len(files), hash)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f.Path, "_test.go") || strings.Contains(f.Path, "testdata/") || f.Path == VersionFile {
			t.Errorf("unexpected %s", f.Path)
		}
		seen[f.Path] = true
	}
	for _, want := range []string{"go.mod", "doc.go", "runtime/runtime.go", "libs/libs.go", "protocol/protocol.go", "types/decode.go", "internal/engine"} {
		found := seen[want]
		for p := range seen {
			found = found || strings.HasPrefix(p, want+"/")
		}
		if !found {
			t.Errorf("missing %s", want)
		}
	}
	gomod := ""
	for _, f := range files {
		if f.Path == "go.mod" {
			gomod = string(f.Data)
		}
	}
	if !strings.Contains(gomod, "\nmodule "+ModulePath+"\n\ngo "+GoVersion()+"\n") {
		t.Fatalf("go.mod:\n%s", gomod)
	}
}

func TestReplacePath(t *testing.T) {
	root := filepath.FromSlash("/p/proj")
	for src, want := range map[string]string{
		"/p/proj/src":      "../.dvp/sdk",
		"/p/proj/code/src": "../../.dvp/sdk",
		"/p/proj":          "./.dvp/sdk",
	} {
		got, err := ReplacePath(root, filepath.FromSlash(src))
		if err != nil || got != want {
			t.Errorf("ReplacePath(%s) = %q, %v; want %q", src, got, err, want)
		}
	}
}
