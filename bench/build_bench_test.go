package bench

import (
	"fmt"
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

// Limits of the build benchmarks (docs/performance.md): dvp build / go
// build, medians of one alternated run.
const (
	maxBuildVsGoBuild = 1.3  // BenchmarkBuildVsGoBuild
	maxNoChange       = 1.5  // BenchmarkBuildNoChange
	maxEditLoop       = 1.15 // BenchmarkBuildEditLoop
)

// buildBench is a scaffolded STAGED project, the dvp binary, and the two
// commands the build benchmarks compare.
type buildBench struct {
	b        *testing.B
	dvp      string
	root     string
	src      string
	out      string // go build's output: a stable path, as dvp's
	edits    int
	goFlags  []string
	editFile string
}

func newBuildBench(b *testing.B) *buildBench {
	if _, err := exec.LookPath("go"); err != nil {
		b.Skip("no go command")
	}
	bb := &buildBench{b: b, dvp: dvpBinary(b), root: b.TempDir(), goFlags: build.BuildFlags}
	if _, err := scaffold.Init(scaffold.Options{Root: bb.root, PluginType: protocol.PluginTypeStaged, HostType: scaffold.Unix, ID: "0f9e3c4a-7b21-4d2e-9a55-1c2d3e4f5a6b"}); err != nil {
		b.Fatal(err)
	}
	bb.src = filepath.Join(bb.root, scaffold.SrcDir)
	bb.out = filepath.Join(b.TempDir(), "plugin")
	bb.editFile = filepath.Join(bb.src, "bench_edit.go")
	return bb
}

// sample is one timed run: wall time, and CPU time (user + system) of
// the process and the children it waited for (go build and its compiler
// and linker), which a busy machine inflates less than wall time.
type sample struct{ wall, cpu time.Duration }

func runTimed(b *testing.B, cmd *exec.Cmd) sample {
	start := time.Now()
	if o, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s: %v\n%s", cmd, err, o)
	}
	wall := time.Since(start)
	return sample{wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
}

// dvpBuild runs the real CLI in a subprocess.
func (bb *buildBench) dvpBuild() sample {
	cmd := exec.Command(bb.dvp, "build")
	cmd.Dir = bb.root
	return runTimed(bb.b, cmd)
}

// goBuild runs go build of the same package for the same target with the
// same environment, and bb.goFlags.
func (bb *buildBench) goBuild() sample {
	args := append([]string{"build"}, bb.goFlags...)
	cmd := exec.Command("go", append(args, "-o", bb.out, ".")...)
	cmd.Dir = bb.src
	cmd.Env = build.GoEnv(os.Environ(), build.TargetOS, build.TargetArch)
	return runTimed(bb.b, cmd)
}

// edit changes a Go source of the plugin, in a way that changes its binary
// (an init function sets a variable to a value never used before).
func (bb *buildBench) edit() {
	bb.edits++
	src := fmt.Sprintf("package main\n\nvar benchEdit string\n\nfunc init() { benchEdit = \"edit %d\" }\n", bb.edits)
	if err := os.WriteFile(bb.editFile, []byte(src), 0o644); err != nil {
		bb.b.Fatal(err)
	}
}

// run alternates dvp and go (each preceded by before, untimed) b.N times
// after a warm-up of each, and reports the medians and their ratio (of
// wall time; the CPU times are reported too); it fails the benchmark when
// the ratio is over limit.
func (bb *buildBench) run(before func(), limit float64) {
	b := bb.b
	before()
	bb.dvpBuild() // warm: SDK copy, generated code, build cache, the outputs
	before()
	bb.goBuild()
	var dvpTimes, goTimes []sample
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			before()
			dvpTimes = append(dvpTimes, bb.dvpBuild())
			before()
			goTimes = append(goTimes, bb.goBuild())
		} else {
			before()
			goTimes = append(goTimes, bb.goBuild())
			before()
			dvpTimes = append(dvpTimes, bb.dvpBuild())
		}
	}
	b.StopTimer()
	wall := func(s []sample) []time.Duration {
		var ds []time.Duration
		for _, x := range s {
			ds = append(ds, x.wall)
		}
		return ds
	}
	cpu := func(s []sample) []time.Duration {
		var ds []time.Duration
		for _, x := range s {
			ds = append(ds, x.cpu)
		}
		return ds
	}
	d, g := median(wall(dvpTimes)), median(wall(goTimes))
	dc, gc := median(cpu(dvpTimes)), median(cpu(goTimes))
	b.Logf("dvp build: %v (CPU %v)", wall(dvpTimes), cpu(dvpTimes))
	b.Logf("go build:  %v (CPU %v)", wall(goTimes), cpu(goTimes))
	ratio := float64(d) / float64(g)
	b.ReportMetric(float64(d.Milliseconds()), "dvp-build-ms")
	b.ReportMetric(float64(g.Milliseconds()), "go-build-ms")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(float64(dc.Milliseconds()), "dvp-cpu-ms")
	b.ReportMetric(float64(gc.Milliseconds()), "go-cpu-ms")
	// The testing package first calls a benchmark with b.N = 1: one sample
	// of each side is noise, so the limit is judged on the medians of the
	// requested runs (-benchtime 10x) only.
	if ratio > limit && b.N >= 5 {
		b.Errorf("dvp build takes %.2fx go build's time (limit %.2fx)", ratio, limit)
	}
}

// BenchmarkBuildVsGoBuild compares a full `dvp build` of the STAGED
// scaffold (validate, SDK copy check, code generation, go build for
// linux/amd64, manifest, package, atomic write), run as the real CLI in a
// subprocess, with a `go build` of the same package for the same target
// with the flags dvp used before it kept Go's build ID
// (-ldflags=-buildid=): a go build that links every time. Nothing changes
// between the runs. Both run with warm caches (one untimed run of each
// first) and alternate within one run, so that machine noise hits both
// alike. It reports the median of each and their ratio (dvp/go); the limit
// is 1.3.
//
//	go test ./bench -run '^$' -bench BuildVsGoBuild -benchtime 20x
func BenchmarkBuildVsGoBuild(b *testing.B) {
	bb := newBuildBench(b)
	bb.goFlags = append(append([]string{}, build.BuildFlags...), "-ldflags=-buildid=")
	bb.run(func() {}, maxBuildVsGoBuild)
}

// BenchmarkBuildNoChange compares `dvp build` with no change since the last
// build (go build skips the link; dvp reuses the manifest and leaves the
// artifact as it is) with a no-change `go build` to a stable path with
// dvp's flags (build.BuildFlags: the build ID kept, so go build skips the
// link too). Limit 1.5.
func BenchmarkBuildNoChange(b *testing.B) {
	bb := newBuildBench(b)
	bb.run(func() {}, maxNoChange)
}

// BenchmarkBuildEditLoop compares `dvp build` with `go build` (dvp's
// flags, a stable path) right after the same kind of edit: before each
// run, a Go source of the plugin gets a new value, so both compile the
// main package and link, and dvp also reads the manifest of the new binary
// and writes a new artifact. Limit 1.15.
func BenchmarkBuildEditLoop(b *testing.B) {
	bb := newBuildBench(b)
	bb.run(bb.edit, maxEditLoop)
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
