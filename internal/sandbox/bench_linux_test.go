//go:build linux

package sandbox

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkSandboxVsPlainStart measures what the sandbox adds to starting
// a process: /bin/true started plainly, and started in a plugin's sandbox
// (hidden data directory, exposed work directory, read-only file system,
// no network, limits). make bench reports the ratio (docs/performance.md).
func BenchmarkSandboxVsPlainStart(b *testing.B) {
	s, err := New()
	if err != nil {
		b.Skip(err)
	}
	root := b.TempDir()
	data, work := filepath.Join(root, "data"), filepath.Join(root, "data", "work")
	if err := exec.Command("mkdir", "-p", work).Run(); err != nil {
		b.Fatal(err)
	}
	p := Policy{Hide: []string{data}, Expose: []Bind{{Path: work, Writable: true}}, ReadOnly: true, Limits: DefaultLimits()}
	var plain, boxed time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		cmd := exec.Command("/bin/true")
		cmd.Dir, cmd.Env = work, Env(nil, work)
		cleanup, err := s.Wrap(cmd, p)
		if err != nil {
			b.Fatal(err)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		cleanup()
		plain += t1.Sub(t0)
		boxed += time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(plain.Microseconds())/1000/n, "plain-ms/op")
	b.ReportMetric(float64(boxed.Microseconds())/1000/n, "sandbox-ms/op")
	b.ReportMetric(float64(boxed)/float64(plain), "sandbox/plain")
}
