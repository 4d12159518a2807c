package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStartup compares the start of dvp (`dvp --version` and `dvp
// --help`, the commands that do nothing but start) with a Go hello-world
// binary built in the same run with the same flags (static, -trimpath). The
// runs alternate, so that machine noise hits both alike; it reports the
// median of each and the ratios. The target is at most 2x. Beside the
// wall-clock times it reports each process's CPU time (user + system) and
// minor page faults (medians), which other processes on a shared machine
// move much less: a page fault is most of what a start costs
// (docs/performance.md, "Start-up").
//
//	go test ./bench -run '^$' -bench Startup -benchtime 200x
func BenchmarkStartup(b *testing.B) {
	dvp := dvpBinary(b)
	hello := helloBinary(b)
	type sample struct {
		wall, cpu time.Duration
		faults    int64
	}
	run := func(bin string, args ...string) sample {
		cmd := exec.Command(bin, args...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v\n%s", bin, args, err, out)
		}
		s := sample{wall: time.Since(start), cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			s.faults = ru.Minflt
		}
		return s
	}
	run(dvp, "--version") // warm the page cache
	run(hello)
	var h, v, hp []sample
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h = append(h, run(hello))
		v = append(v, run(dvp, "--version"))
		hp = append(hp, run(dvp, "--help"))
	}
	b.StopTimer()
	wall := func(ss []sample) time.Duration { return medianOf(ss, func(s sample) time.Duration { return s.wall }) }
	cpu := func(ss []sample) time.Duration { return medianOf(ss, func(s sample) time.Duration { return s.cpu }) }
	faults := func(ss []sample) float64 {
		return float64(medianOf(ss, func(s sample) time.Duration { return time.Duration(s.faults) }))
	}
	mh, mv, mhp := wall(h), wall(v), wall(hp)
	b.ReportMetric(ms(mh), "hello-ms")
	b.ReportMetric(ms(mv), "version-ms")
	b.ReportMetric(ms(mhp), "help-ms")
	b.ReportMetric(float64(mv)/float64(mh), "version/hello")
	b.ReportMetric(float64(mhp)/float64(mh), "help/hello")
	ch, cv, chp := cpu(h), cpu(v), cpu(hp)
	b.ReportMetric(ms(ch), "hello-cpu-ms")
	b.ReportMetric(ms(cv), "version-cpu-ms")
	b.ReportMetric(ms(chp), "help-cpu-ms")
	b.ReportMetric(float64(cv)/float64(ch), "version/hello-cpu")
	b.ReportMetric(float64(chp)/float64(ch), "help/hello-cpu")
	b.ReportMetric(faults(h), "hello-faults")
	b.ReportMetric(faults(v), "version-faults")
	b.ReportMetric(faults(hp), "help-faults")
}

// medianOf is the median of one measure of the samples.
func medianOf[S any](ss []S, f func(S) time.Duration) time.Duration {
	ds := make([]time.Duration, len(ss))
	for i, s := range ss {
		ds[i] = f(s)
	}
	return median(ds)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// helloBinary builds a Go program that prints one line, as dvpBinary builds dvp.
func helloBinary(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	files := map[string]string{
		"go.mod":  "module hello\n\ngo 1.25\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("building hello: %v", err)
	}
	return bin
}
