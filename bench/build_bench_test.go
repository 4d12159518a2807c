package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/build"
	"github.com/dvpkit/dvp/internal/scaffold"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// BenchmarkBuildVsGoBuild compares a full `dvp build` of the STAGED
// scaffold (validate, SDK copy check, code generation, go build for
// linux/amd64, manifest, package, atomic write), run as the real CLI in a
// subprocess, with a bare `go build` of the same package for the same
// target with the same flags and environment. Both run with warm caches
// (one untimed run of each first) and alternate within one run, so that
// machine noise hits both alike. It reports the median of each and their
// ratio (dvp/go); the target is at most 1.3.
//
//	go test ./bench -run '^$' -bench BuildVsGoBuild -benchtime 20x
func BenchmarkBuildVsGoBuild(b *testing.B) {
	if _, err := exec.LookPath("go"); err != nil {
		b.Skip("no go command")
	}
	dvp := dvpBinary(b)
	root := b.TempDir()
	if _, err := scaffold.Init(scaffold.Options{Root: root, PluginType: protocol.PluginTypeStaged, HostType: scaffold.Unix, ID: "0f9e3c4a-7b21-4d2e-9a55-1c2d3e4f5a6b"}); err != nil {
		b.Fatal(err)
	}
	src := filepath.Join(root, scaffold.SrcDir)
	out := filepath.Join(b.TempDir(), "plugin")

	dvpBuild := func() time.Duration {
		cmd := exec.Command(dvp, "build")
		cmd.Dir = root
		start := time.Now()
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("dvp build: %v\n%s", err, o)
		}
		return time.Since(start)
	}
	goBuild := func() time.Duration {
		args := append([]string{"build"}, build.BuildFlags...)
		cmd := exec.Command("go", append(args, "-o", out, ".")...)
		cmd.Dir = src
		cmd.Env = build.GoEnv(os.Environ(), build.TargetOS, build.TargetArch)
		start := time.Now()
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, o)
		}
		return time.Since(start)
	}
	dvpBuild() // warm: SDK copy, generated code, build cache
	goBuild()

	var dvpTimes, goTimes []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			dvpTimes = append(dvpTimes, dvpBuild())
			goTimes = append(goTimes, goBuild())
		} else {
			goTimes = append(goTimes, goBuild())
			dvpTimes = append(dvpTimes, dvpBuild())
		}
	}
	b.StopTimer()
	d, g := median(dvpTimes), median(goTimes)
	b.ReportMetric(float64(d.Milliseconds()), "dvp-build-ms")
	b.ReportMetric(float64(g.Milliseconds()), "go-build-ms")
	b.ReportMetric(float64(d)/float64(g), "ratio")
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
