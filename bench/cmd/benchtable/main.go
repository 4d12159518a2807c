// Command benchtable runs dvp's comparative benchmarks — each measures dvp
// and a baseline in the same run — and prints one table of the results.
// `make bench` runs it; docs/performance.md explains every row.
//
//	go run ./bench/cmd/benchtable [-quick]
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// bench is one `go test -bench` run.
type bench struct {
	pkg, pattern string
	times, quick string // -benchtime
}

var benches = []bench{
	{"./bench", "^BenchmarkValidateVsPython$", "20x", "5x"},
	{"./internal/codegen", "^BenchmarkGenerate(5k|50k)$", "5x", "2x"},
	{"./bench", "^BenchmarkBuildVsGoBuild$", "10x", "3x"},
	{"./bench", "^BenchmarkBuildNoChange$", "10x", "3x"},
	{"./bench", "^BenchmarkBuildEditLoop$", "20x", "3x"},
	{"./internal/engine/e2e", "^BenchmarkUpload200MB$", "5x", "2x"},
	{"./internal/engine/e2e", "^BenchmarkEngineRPS$", "20x", "5x"},
	{"./internal/engine/e2e", "^BenchmarkToolkitLists$", "10x", "3x"},
	{"./internal/engine/e2e", "^BenchmarkLongJobPoll$", "10x", "3x"},
	{"./internal/sandbox", "^BenchmarkSandboxVsPlainStart$", "50x", "10x"},
	{"./bench", "^BenchmarkStartup$", "200x", "30x"},
}

// results maps a benchmark name (without the -N suffix) to its metrics.
type results map[string]map[string]float64

func parse(out []byte, res results) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				m[f[i+1]] = v
			}
		}
		res[name] = m
	}
}

func main() {
	quick := flag.Bool("quick", false, "fewer iterations (a smoke run, noisier)")
	flag.Parse()
	start := time.Now()
	res, failed := runBenches(*quick)
	var rows []row
	rows = append(rows, cliRows(res)...)
	rows = append(rows, engineRows(res)...)
	rows = append(rows, startupRows(res)...)
	printTable(rows, start)
	if len(failed) > 0 {
		fmt.Println()
		for p, e := range failed {
			fmt.Printf("FAILED: %s: %s (a limit was exceeded or the benchmark broke; see the output above)\n", p, e)
		}
		os.Exit(1)
	}
}

// runBenches runs the benchmarks one after the other and collects their
// metrics; failed maps the pattern of each that failed to its error.
func runBenches(quick bool) (res results, failed map[string]string) {
	res, failed = results{}, map[string]string{}
	for _, b := range benches {
		bt := b.times
		if quick {
			bt = b.quick
		}
		// -tags e2e: the engine benchmarks are in the end-to-end suite.
		args := []string{"test", "-tags", "e2e", "-run", "^$", "-bench", b.pattern, "-benchtime", bt, "-count", "1", "-timeout", "30m", b.pkg}
		fmt.Fprintf(os.Stderr, "$ go %s\n", strings.Join(args, " "))
		cmd := exec.Command("go", args...)
		var out bytes.Buffer
		cmd.Stdout = io.MultiWriter(&out, os.Stderr)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			failed[b.pattern] = err.Error()
		}
		parse(out.Bytes(), res)
	}
	return res, failed
}

// row is a row of the table.
type row struct {
	what, dvp, base, ratio, target, note string
}

// get is the metric unit of the benchmark name, if it was reported.
func (res results) get(name, unit string) (float64, bool) {
	v, ok := res[name][unit]
	return v, ok
}

func ms(v float64) string { return fmt.Sprintf("%.1f ms", v) }

// cliRows are the rows of dvp's own commands: validate, codegen, build.
func cliRows(res results) []row {
	get := res.get
	var rows []row
	// buildCPU notes the CPU times of a build row (user + system, with
	// the children: go build, compiler, linker).
	buildCPU := func(name string) string {
		d, ok1 := get(name, "dvp-cpu-ms")
		g, ok2 := get(name, "go-cpu-ms")
		if !ok1 || !ok2 || g == 0 {
			return ""
		}
		return fmt.Sprintf("; CPU %.0f vs %.0f ms (%.2f)", d, g, d/g)
	}
	if d, ok := get("BenchmarkValidateVsPython", "dvp-ms/op"); ok {
		p, _ := get("BenchmarkValidateVsPython", "python-ms/op")
		r, _ := get("BenchmarkValidateVsPython", "dvp/python")
		rows = append(rows, row{"dvp validate vs python3 -c pass", ms(d), ms(p), fmt.Sprintf("%.2f", r), "< 1", "start-up + full validation vs a bare interpreter start"})
	} else {
		rows = append(rows, row{"dvp validate vs python3 -c pass", "-", "-", "-", "< 1", "not measured (python3 missing?)"})
	}
	if a, ok := get("BenchmarkGenerate5k", "ns/op"); ok {
		if z, ok := get("BenchmarkGenerate50k", "ns/op"); ok {
			rows = append(rows, row{"codegen 50k properties vs 10 x 5k", ms(z / 1e6), ms(10 * a / 1e6), fmt.Sprintf("%.2f", z/(10*a)), "<= 1.2", "1.0 = linear scaling"})
		}
	}
	if d, ok := get("BenchmarkBuildVsGoBuild", "dvp-build-ms"); ok {
		g, _ := get("BenchmarkBuildVsGoBuild", "go-build-ms")
		r, _ := get("BenchmarkBuildVsGoBuild", "ratio")
		rows = append(rows, row{"dvp build vs go build", ms(d), ms(g), fmt.Sprintf("%.2f", r), "<= 1.3", "medians, warm build cache; go build links every time (-ldflags=-buildid=)" + buildCPU("BenchmarkBuildVsGoBuild")})
	}
	if d, ok := get("BenchmarkBuildNoChange", "dvp-build-ms"); ok {
		g, _ := get("BenchmarkBuildNoChange", "go-build-ms")
		r, _ := get("BenchmarkBuildNoChange", "ratio")
		rows = append(rows, row{"no-change dvp build vs go build", ms(d), ms(g), fmt.Sprintf("%.2f", r), "<= 1.5", "medians; neither links, dvp leaves the artifact as it is" + buildCPU("BenchmarkBuildNoChange")})
	}
	if d, ok := get("BenchmarkBuildEditLoop", "dvp-build-ms"); ok {
		g, _ := get("BenchmarkBuildEditLoop", "go-build-ms")
		r, _ := get("BenchmarkBuildEditLoop", "ratio")
		rows = append(rows, row{"edit-loop dvp build vs go build", ms(d), ms(g), fmt.Sprintf("%.2f", r), "<= 1.15", "medians; after the same edit of a Go source: both compile and link" + buildCPU("BenchmarkBuildEditLoop")})
	}
	return rows
}

// engineRows are the rows of the engine: upload, requests, lists, job
// polls, the sandbox.
func engineRows(res results) []row {
	get := res.get
	var rows []row
	if d, ok := get("BenchmarkUpload200MB", "dvp-s"); ok {
		c, _ := get("BenchmarkUpload200MB", "curl-s")
		r, _ := get("BenchmarkUpload200MB", "dvp/curl")
		rss, _ := get("BenchmarkUpload200MB", "dvp-maxRSS-MiB")
		size, _ := get("BenchmarkUpload200MB", "artifact-MiB")
		rows = append(rows, row{fmt.Sprintf("dvp upload vs curl -F (%.0f MiB)", size), fmt.Sprintf("%.2f s", d), fmt.Sprintf("%.2f s", c), fmt.Sprintf("%.2f", r), "<= 1.25", fmt.Sprintf("dvp peak RSS %.1f MiB (limit 64)", rss)})
	} else {
		rows = append(rows, row{"dvp upload vs curl -F", "-", "-", "-", "<= 1.25", "not measured (curl missing?)"})
	}
	if e, ok := get("BenchmarkEngineRPS", "engine-req/s"); ok {
		bb, _ := get("BenchmarkEngineRPS", "baseline-req/s")
		r, _ := get("BenchmarkEngineRPS", "engine/baseline")
		rows = append(rows, row{"engine GET toolkit req/s vs bare net/http", fmt.Sprintf("%.0f/s", e), fmt.Sprintf("%.0f/s", bb), fmt.Sprintf("%.2f", r), ">= 0.5", "16 keep-alive clients, loopback"})
	}
	if p, ok := get("BenchmarkToolkitLists", "page-of-1000-ms"); ok {
		q, _ := get("BenchmarkToolkitLists", "page-of-10-ms")
		r, _ := get("BenchmarkToolkitLists", "page-1000/10")
		rows = append(rows, row{"GET toolkit pageSize=25: 1,000 vs 10 plugins", fmt.Sprintf("%.2f ms", p), fmt.Sprintf("%.2f ms", q), fmt.Sprintf("%.2f", r), "<= 2", "medians, one client; a page's cost flat in the data size"})
		l, _ := get("BenchmarkToolkitLists", "list-1000-ms")
		bare, _ := get("BenchmarkToolkitLists", "bare-1000-ms")
		lr, _ := get("BenchmarkToolkitLists", "list/bare")
		mib, _ := get("BenchmarkToolkitLists", "list-1000-MiB")
		rows = append(rows, row{"GET toolkit, all 1,000 plugins vs bare net/http", ms(l), ms(bare), fmt.Sprintf("%.2f", lr), "report", fmt.Sprintf("unpaged (%.1f MiB), as Python dvp asks; bare = the same bytes", mib)})
	}
	if l, ok := get("BenchmarkLongJobPoll", "job-10000-ms"); ok {
		s, _ := get("BenchmarkLongJobPoll", "job-10-ms")
		mib, _ := get("BenchmarkLongJobPoll", "job-10000-MiB")
		if c, ok := get("BenchmarkLongJobPoll", "poll-after-first-ms"); ok {
			r, _ := get("BenchmarkLongJobPoll", "poll/job-10")
			rows = append(rows, row{"getJob of a 10,000-event job after the first poll vs a 10-event job", fmt.Sprintf("%.2f ms", c), fmt.Sprintf("%.2f ms", s), fmt.Sprintf("%.2f", r), "<= 2", fmt.Sprintf("eventsSince cursor; the first poll reads all (%.0f ms, %.1f MiB)", l, mib)})
		} else {
			rows = append(rows, row{"getJob of a 10,000-event job vs a 10-event job", ms(l), fmt.Sprintf("%.2f ms", s), fmt.Sprintf("%.0f", l/s), "report", fmt.Sprintf("whole job (%.1f MiB): this engine has no events cursor", mib)})
		}
	}
	if d, ok := get("BenchmarkSandboxVsPlainStart", "sandbox-ms/op"); ok {
		p, _ := get("BenchmarkSandboxVsPlainStart", "plain-ms/op")
		r, _ := get("BenchmarkSandboxVsPlainStart", "sandbox/plain")
		rows = append(rows, row{"sandboxed vs plain process start", ms(d), ms(p), fmt.Sprintf("%.2f", r), "report", "/bin/true in a plugin's sandbox: the cost per plugin process and local command"})
	} else {
		rows = append(rows, row{"sandboxed vs plain process start", "-", "-", "-", "report", "not measured (no unprivileged namespaces?)"})
	}
	return rows
}

// startupRows are the rows of dvp's start-up.
func startupRows(res results) []row {
	get := res.get
	var rows []row
	if v, ok := get("BenchmarkStartup", "version-ms"); ok {
		h, _ := get("BenchmarkStartup", "hello-ms")
		hp, _ := get("BenchmarkStartup", "help-ms")
		rv, _ := get("BenchmarkStartup", "version/hello")
		rh, _ := get("BenchmarkStartup", "help/hello")
		cpu := func(name, base string) string {
			c, ok := get("BenchmarkStartup", name+"-cpu-ms")
			cb, _ := get("BenchmarkStartup", base+"-cpu-ms")
			f, _ := get("BenchmarkStartup", name+"-faults")
			fb, _ := get("BenchmarkStartup", base+"-faults")
			if !ok {
				return ""
			}
			return fmt.Sprintf("; CPU %.1f vs %.1f ms (%.2f), page faults %.0f vs %.0f", c, cb, c/cb, f, fb)
		}
		rows = append(rows, row{"dvp --version vs Go hello-world start", ms(v), ms(h), fmt.Sprintf("%.2f", rv), "<= 2", "medians; static binaries, -trimpath" + cpu("version", "hello")})
		rows = append(rows, row{"dvp --help vs Go hello-world start", ms(hp), ms(h), fmt.Sprintf("%.2f", rh), "<= 2", "medians; the root and the groups' summaries" + cpu("help", "hello")})
	}
	return rows
}

// printTable prints the rows as a Markdown table under a title saying
// when the run started and how long it took.
func printTable(rows []row, start time.Time) {
	head := row{"measure", "dvp", "baseline", "ratio", "target", "note"}
	w := make([]int, 6)
	all := append([]row{head}, rows...)
	cells := func(r row) []string { return []string{r.what, r.dvp, r.base, r.ratio, r.target, r.note} }
	for _, r := range all {
		for i, c := range cells(r) {
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	line := func(cs []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cs {
			fmt.Fprintf(&b, " %-*s |", w[i], c)
		}
		fmt.Println(b.String())
	}
	fmt.Printf("\ndvp benchmarks (%s, %s)\n\n", time.Now().Format("2006-01-02 15:04"), time.Since(start).Round(time.Second))
	line(cells(head))
	sep := make([]string, 6)
	for i := range sep {
		sep[i] = strings.Repeat("-", w[i])
	}
	line(sep)
	for _, r := range rows {
		line(cells(r))
	}
}
