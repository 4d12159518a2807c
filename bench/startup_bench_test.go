package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkStartup compares the start of dvp (`dvp --version` and `dvp
// --help`, the commands that do nothing but start) with a Go hello-world
// binary built in the same run with the same flags (static, -trimpath). The
// runs alternate, so that machine noise hits both alike; it reports the
// median of each and the ratios. The target is at most 2x.
//
//	go test ./bench -run '^$' -bench Startup -benchtime 200x
func BenchmarkStartup(b *testing.B) {
	dvp := dvpBinary(b)
	hello := helloBinary(b)
	run := func(bin string, args ...string) time.Duration {
		cmd := exec.Command(bin, args...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v\n%s", bin, args, err, out)
		}
		return time.Since(start)
	}
	run(dvp, "--version") // warm the page cache
	run(hello)
	var h, v, hp []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h = append(h, run(hello))
		v = append(v, run(dvp, "--version"))
		hp = append(hp, run(dvp, "--help"))
	}
	b.StopTimer()
	mh, mv, mhp := median(h), median(v), median(hp)
	b.ReportMetric(ms(mh), "hello-ms")
	b.ReportMetric(ms(mv), "version-ms")
	b.ReportMetric(ms(mhp), "help-ms")
	b.ReportMetric(float64(mv)/float64(mh), "version/hello")
	b.ReportMetric(float64(mhp)/float64(mh), "help/hello")
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
