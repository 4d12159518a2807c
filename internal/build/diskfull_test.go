package build

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dvpkit/dvp/internal/fsutil"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory (root only;
// the test is skipped otherwise).
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestDiskFullWhileWritingArtifact: dvp build writes artifact.json on a
// real filesystem that fills up half way (a tmpfs with room for 1.5
// artifacts, one already there). The build fails with ENOSPC named, the
// previous artifact is intact byte for byte, and no temporary file is left.
func TestDiskFullWhileWritingArtifact(t *testing.T) {
	t.Parallel()
	needGo(t)
	dir := builtCopy(t)
	mustSucceed(t, runBuild(t, dir))
	prev, err := os.ReadFile(filepath.Join(dir, "artifact.json"))
	if err != nil {
		t.Fatal(err)
	}
	disk := mountTmpfs(t, int64(len(prev))*3/2+8192)
	target := filepath.Join(disk, "artifact.json")
	if err := os.WriteFile(target, prev, 0o644); err != nil {
		t.Fatal(err)
	}
	edit(t, filepath.Join(dir, "plugin_config.yml"), "buildNumber:", "buildNumber: '9.9' #")
	res := runBuild(t, dir, func(o *Options) { o.ArtifactPath = target })
	if !res.Failed() {
		t.Fatal("the build succeeded on a full disk")
	}
	var msgs []string
	for _, p := range res.Problems {
		msgs = append(msgs, p.String())
	}
	want := "Failed to write upload_artifact file to " + target + ". Error code: 28. Error message: No space left on device"
	if !strings.Contains(strings.Join(msgs, "\n"), want) {
		t.Errorf("problems:\n%s\nwant %q", strings.Join(msgs, "\n"), want)
	}
	got, err := os.ReadFile(target)
	if err != nil || !bytes.Equal(got, prev) {
		t.Errorf("the previous artifact changed (%v, %d bytes, was %d)", err, len(got), len(prev))
	}
	ents, _ := os.ReadDir(disk)
	if len(ents) != 1 {
		t.Errorf("files left on the disk: %v", ents)
	}
}

// failingReader fails with err after n bytes: a write path that breaks
// part way through, without root.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

// TestWriteFileAtomicFailureKeepsPrevious injects the failure (no root
// needed): the stream of the artifact breaks after 1 MiB with ENOSPC.
func TestWriteFileAtomicFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "artifact.json")
	prev := []byte(`{"previous": true}`)
	os.WriteFile(target, prev, 0o644)
	err := fsutil.WriteReader(target, &failingReader{n: 1 << 20, err: syscall.ENOSPC}, 0o644)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("error %v", err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, prev) {
		t.Errorf("the previous artifact changed: %q", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files left: %v", ents)
	}
	_ = io.EOF
}
