//go:build e2e

package build

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/artifact"
	"github.com/dvpkit/dvp/internal/sdkcopy"
)

// artifactEntry returns the content of one entry of an artifact's
// sourceCode ZIP.
func artifactEntry(t *testing.T, path, name string) []byte {
	t.Helper()
	var doc struct {
		SourceCode string `json:"sourceCode"`
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(doc.SourceCode)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rc.Close()
	out, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGoModAndSDKVersionChangeTheArtifact: after a build, a change of
// go.mod, and an SDK of another version in .dvp/sdk (what a dvp with
// another SDK puts there), each make the next build write a new artifact
// that holds the change — the go.mod in its sources and the same bytes as
// a build from scratch; the SDK's version in the manifest the new binary
// printed and in the build record — and going back gives the first bytes
// again.
func TestGoModAndSDKVersionChangeTheArtifact(t *testing.T) {
	t.Parallel()
	needGo(t)
	dir := fixture(t)
	art := filepath.Join(dir, "artifact.json")
	first := runBuild(t, dir)
	mustSucceed(t, first)

	// go.mod: a godebug setting (kept in the binary).
	gomod := filepath.Join(dir, "src", "go.mod")
	edit(t, gomod, "go 1.25", "go 1.25\n\ngodebug panicnil=1")
	res := runBuild(t, dir)
	mustSucceed(t, res)
	if res.UpToDate || res.SHA256 == first.SHA256 || res.BinarySHA256 == first.BinarySHA256 {
		t.Fatalf("go.mod changed: up to date %v, sha256 %s, binary %s as before", res.UpToDate, res.SHA256, res.BinarySHA256)
	}
	if got := artifactEntry(t, art, SourcesPrefix+"go.mod"); !bytes.Contains(got, []byte("godebug panicnil=1")) {
		t.Errorf("the artifact's go.mod is not the edited one:\n%s", got)
	}
	if fresh := freshSHA(t, dir); res.SHA256 != fresh {
		t.Errorf("go.mod changed: sha256 %s, from scratch %s", res.SHA256, fresh)
	}
	edit(t, gomod, "go 1.25\n\ngodebug panicnil=1", "go 1.25")
	if res = runBuild(t, dir); res.Failed() || res.SHA256 != first.SHA256 {
		t.Fatalf("go.mod put back: failed %v, sha256 %s, want %s", res.Failed(), res.SHA256, first.SHA256)
	}
	// A go directive below the SDK's: go build puts it back up (-mod=mod)
	// after the sources were read; the artifact holds go.mod as the plugin
	// was compiled with it, which is the first build's.
	edit(t, gomod, "go 1.25", "go 1.24")
	res = runBuild(t, dir)
	mustSucceed(t, res)
	data, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	if got := artifactEntry(t, art, SourcesPrefix+"go.mod"); !bytes.Equal(got, data) || !bytes.Contains(data, []byte("go 1.25")) {
		t.Errorf("go.mod updated by go build:\n%s\nthe artifact's:\n%s", data, got)
	}
	if !res.UpToDate || res.SHA256 != first.SHA256 {
		t.Errorf("go.mod updated back by go build: up to date %v, sha256 %s, want %s", res.UpToDate, res.SHA256, first.SHA256)
	}

	// An SDK of another version.
	const otherVersion = "0.1.1-inputs-test"
	otherSDK := func(o *Options) {
		o.SyncSDK = func(root string) (bool, error) {
			if _, err := sdkcopy.SyncSDK(root); err != nil {
				return false, err
			}
			doc := filepath.Join(root, filepath.FromSlash(sdkcopy.Dir), "doc.go")
			data, err := os.ReadFile(doc)
			if err != nil {
				return false, err
			}
			changed := bytes.Replace(data, []byte(`const Version = "`), []byte(`const Version = "`+otherVersion+`" //`), 1)
			if bytes.Equal(changed, data) {
				t.Fatalf("no Version constant in %s", doc)
			}
			return true, os.WriteFile(doc, changed, 0o644)
		}
	}
	res = runBuild(t, dir, otherSDK)
	mustSucceed(t, res)
	if res.UpToDate || res.SHA256 == first.SHA256 || res.BinarySHA256 == first.BinarySHA256 {
		t.Fatalf("another SDK: up to date %v, sha256 %s, binary %s (before %s, %s)", res.UpToDate, res.SHA256, res.BinarySHA256, first.SHA256, first.BinarySHA256)
	}
	var rec artifact.BuildRecord
	if err := json.Unmarshal(artifactEntry(t, art, artifact.BuildRecordEntry), &rec); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rec.SDKVersion, otherVersion) || rec.BinarySHA256 != res.BinarySHA256 {
		t.Errorf("another SDK: the build record says SDK %q, binary %s; want %s..., %s", rec.SDKVersion, rec.BinarySHA256, otherVersion, res.BinarySHA256)
	}
	// This dvp's SDK again: the first bytes.
	if res = runBuild(t, dir); res.Failed() || res.SHA256 != first.SHA256 {
		t.Fatalf("the SDK put back: failed %v, sha256 %s, want %s", res.Failed(), res.SHA256, first.SHA256)
	}
}
