//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/testbuild"
	"github.com/dvpkit/dvp/internal/testio"
)

// TestLoad runs DVP_LOAD_CLIENTS (100) concurrent clients against one engine
// process on loopback for DVP_LOAD_DURATION (60s). Each client logs in once,
// then loops: request an upload token, upload its own plugin with the next
// build number, follow the upgrade's job to its end (as dvp upload --wait
// does), list the toolkits. Every request must succeed; afterwards every
// client's plugin must be listed at the last build it saw installed; the
// latencies (p50, p95, p99, max) of each kind of request are printed, with
// each kind's share of the loop's slowest 1% (the requests above the p99
// of all the loop's requests).
//
// It runs only with DVP_LOAD=1 (and not with -short): `make load`.
// DVP_LOAD_DVP=PATH (make load LOAD_DVP=PATH) runs the engine of another
// dvp binary, to compare builds. With
// DVP_LOAD_PROFILE=DIR (make load LOAD_PROFILE=DIR) the engine is a dvp
// built with the dvppprof tag (internal/engine/profiling_on.go), and the
// test saves its profiles in the middle of the loop to DIR: a CPU profile
// and the block and mutex profiles of the middle third, and a goroutine
// dump at its start (docs/performance.md).
func TestLoad(t *testing.T) {
	if testing.Short() || os.Getenv("DVP_LOAD") == "" {
		t.Skip("load test: set DVP_LOAD=1 (make load)")
	}
	clients := envInt(t, "DVP_LOAD_CLIENTS", 100)
	duration, err := time.ParseDuration(envStr("DVP_LOAD_DURATION", "60s"))
	if err != nil {
		t.Fatal(err)
	}
	profDir := os.Getenv("DVP_LOAD_PROFILE")
	e := startLoadEngine(t, t.TempDir(), os.Getenv("DVP_LOAD_DVP"), profDir != "")
	tr := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients, IdleConnTimeout: time.Minute}
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute}

	var (
		mu        sync.Mutex
		lat       = map[string][]time.Duration{}
		failures  []string
		nfail     int
		installed = make([]int, clients) // last build seen COMPLETED, per client
	)
	record := func(kind string, d time.Duration) {
		mu.Lock()
		lat[kind] = append(lat[kind], d)
		mu.Unlock()
	}
	fail := func(format string, args ...any) {
		mu.Lock()
		nfail++
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	type env struct {
		Type   string          `json:"type"`
		Status string          `json:"status"`
		Result json.RawMessage `json:"result"`
		Job    *string         `json:"job"`
		Action *string         `json:"action"`
	}
	// call sends one request and decodes the envelope; ok is false (and the
	// failure recorded) unless the answer is a 200 OK envelope. The client
	// shares the machine with the engine, so it does no more than that: a
	// list's envelope is read up to its type and status (the whole list is
	// decoded and checked at the end); the body is read into the client's
	// own buffer.
	call := func(buf *bytes.Buffer, kind, method, path, ctype, cookie string, body []byte) (env, string, bool) {
		req, _ := http.NewRequest(method, e.url+"/resources/json/"+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			fail("%s %s: %v", method, path, err)
			return env{}, "", false
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		record(kind, time.Since(start))
		b := buf.Bytes()
		var v env
		var derr error
		if kind == "list" {
			v.Type, v.Status, derr = envelopeHead(b)
			if v.Type != "ListResult" {
				v.Status = "not a ListResult"
			}
		} else {
			derr = json.Unmarshal(b, &v)
		}
		if err != nil || resp.StatusCode != 200 || derr != nil || v.Status != "OK" {
			fail("%s %s: %d %v %.300s", method, path, resp.StatusCode, err, b)
			return v, "", false
		}
		return v, resp.Header.Get("Set-Cookie"), true
	}

	id := func(i int) string { return fmt.Sprintf("0f9e3c4a-7b21-4d2e-9a55-%012d", i) }
	deadline := time.Time{}
	var started, wg sync.WaitGroup
	started.Add(clients)
	start := make(chan struct{})
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			buf := new(bytes.Buffer)
			template := enginetest.Bytes(enginetest.Options{ID: id(c), Name: fmt.Sprintf("load plugin %d", c), BuildNumber: "@@BUILD@@"})
			_, cookie, ok := call(buf, "session", "POST", "delphix/session", "application/json", "",
				[]byte(`{"version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}, "type": "APISession"}`))
			if ok {
				_, cookie, ok = call(buf, "login", "POST", "delphix/login", "application/json", cookie,
					[]byte(`{"type": "LoginRequest", "username": "admin", "password": "`+adminPassword+`"}`))
			}
			started.Done()
			if !ok {
				return
			}
			<-start
			for build := 1; time.Now().Before(deadline); build++ {
				v, _, ok := call(buf, "requestUploadToken", "POST", "delphix/toolkit/requestUploadToken", "application/json", cookie, nil)
				if !ok {
					continue
				}
				var tok struct{ Token string }
				json.Unmarshal(v.Result, &tok)
				var body bytes.Buffer
				body.WriteString("------------boundary------\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n" + tok.Token + "\r\n")
				body.WriteString("------------boundary------\r\nContent-Disposition:form-data; name=\"file\"; filename=\"artifact.json\"\r\nContent-Type: application/octet-stream\r\n\r\n")
				body.Write(bytes.Replace(template, []byte("@@BUILD@@"), []byte(strconv.Itoa(build)), 1))
				body.WriteString("\r\n------------boundary--------\r\n")
				v, _, ok = call(buf, "upload", "POST", "delphix/data/upload", "multipart/form-data; boundary=----------boundary------", cookie, body.Bytes())
				if !ok {
					continue
				}
				done := v.Job == nil // a new plugin is installed before the answer
				for !done && v.Action != nil {
					time.Sleep(50 * time.Millisecond)
					j, _, ok := call(buf, "getJob", "GET", "delphix/action/"+*v.Action+"/getJob", "application/json", cookie, nil)
					if !ok {
						break
					}
					var job struct{ JobState string }
					json.Unmarshal(j.Result, &job)
					switch job.JobState {
					case "RUNNING":
					case "COMPLETED":
						done = true
					default:
						fail("client %d build %d: job %s", c, build, j.Result)
						v.Action = nil
					}
				}
				if done {
					mu.Lock()
					installed[c] = build
					mu.Unlock()
				}
				call(buf, "list", "GET", "delphix/toolkit", "application/json", cookie, nil)
			}
		}(c)
	}
	started.Wait()
	engineCPU0, err := procCPU(e.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	selfCPU0 := selfCPU()
	stats0 := storeStats(t, e)
	fmt.Printf("load: %d clients logged in, the loop runs for %s\n", clients, duration)
	t0 := time.Now()
	deadline = t0.Add(duration)
	close(start)
	if profDir != "" {
		go saveProfiles(t, e, profDir, duration)
	}
	wg.Wait()
	elapsed := time.Since(t0)
	engineCPU1, err := procCPU(e.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	engineCPU, clientCPU := engineCPU1-engineCPU0, selfCPU()-selfCPU0
	stats1 := storeStats(t, e)

	// Nothing lost: every client's plugin is listed at its last build.
	a := e.api(t)
	listed := map[string]string{}
	for _, tk := range a.toolkits() {
		listed[tk.Identifier] = tk.BuildNumber
	}
	lost := 0
	for c := 0; c < clients; c++ {
		if installed[c] == 0 {
			continue
		}
		if got := listed[id(c)]; got != strconv.Itoa(installed[c]) {
			lost++
			if lost < 10 {
				t.Errorf("client %d: build %d was installed, the engine lists %q", c, installed[c], got)
			}
		}
	}
	var total int
	kinds := make([]string, 0, len(lat))
	for k, ds := range lat {
		kinds = append(kinds, k)
		total += len(ds)
	}
	sort.Strings(kinds)
	var all []time.Duration
	for _, k := range kinds {
		if k != "session" && k != "login" {
			all = append(all, lat[k]...)
		}
	}
	tail := pct(all, 99) // the loop's slowest 1% are above it
	tailN := 0
	for _, d := range all {
		if d > tail {
			tailN++
		}
	}
	var report strings.Builder
	fmt.Fprintf(&report, "load: %d clients, %s, %d requests (%.0f/s), %d failed, %d plugins checked, %d lost\n",
		clients, elapsed.Round(time.Millisecond), total, float64(total)/elapsed.Seconds(), nfail, len(listed), lost)
	fmt.Fprintf(&report, "%-20s %8s %10s %10s %10s %10s %8s\n", "request", "count", "p50", "p95", "p99", "max", "tail")
	row := func(k string, ds []time.Duration, inLoop bool) {
		share := "-"
		if inLoop && tailN > 0 {
			n := 0
			for _, d := range ds {
				if d > tail {
					n++
				}
			}
			share = fmt.Sprintf("%.0f%%", 100*float64(n)/float64(tailN))
		}
		fmt.Fprintf(&report, "%-20s %8d %10s %10s %10s %10s %8s\n", k, len(ds), pct(ds, 50), pct(ds, 95), pct(ds, 99), pct(ds, 100), share)
	}
	for _, k := range kinds {
		row(k, lat[k], k != "session" && k != "login")
	}
	row("all (in the loop)", all, true)
	fmt.Fprintf(&report, "tail: the share of each kind among the %d loop requests slower than the loop's p99 (%s)\n", tailN, tail)
	if n, loops := len(all), len(lat["upload"]); n > 0 && loops > 0 {
		fmt.Fprintf(&report, "CPU (user+sys) in the loop: engine %s (%.0f us per request, %.2f ms per upload loop), load client %s (%.0f us per request, %.2f ms per loop)\n",
			engineCPU.Round(time.Millisecond), float64(engineCPU.Microseconds())/float64(n), float64(engineCPU.Microseconds())/1000/float64(loops),
			clientCPU.Round(time.Millisecond), float64(clientCPU.Microseconds())/float64(n), float64(clientCPU.Microseconds())/1000/float64(loops))
	}
	if uploads := float64(len(lat["upload"])); stats0 != nil && stats1 != nil && uploads > 0 {
		d := func(k string) float64 { return stats1[k] - stats0[k] }
		ms := func(k string, n float64) string {
			if n == 0 {
				return "-"
			}
			return fmt.Sprintf("%.2f ms", d(k)/n/1e6)
		}
		fmt.Fprintf(&report, "store, per upload: %.2f fsyncs, %.2f commits; a write waited %s for its commit (writer's lock and batches); "+
			"a batch of %.1f writes held the lock %s, %s of it in COMMIT; a spool or directory fsync took %s\n",
			d("Fsyncs")/uploads, d("Commits")/uploads, ms("WaitNs", d("Writes")), d("Writes")/max(1, d("Batches")),
			ms("LockNs", d("Batches")), ms("CommitNs", d("Commits")), ms("SyncNs", d("Fsyncs")-d("Commits")))
	}
	t.Log("\n" + report.String())
	fmt.Print(report.String())
	if nfail > 0 {
		t.Errorf("%d requests failed; first: %s", nfail, strings.Join(failures, "\n"))
	}
}

// startLoadEngine starts the load test's engine process: the dvp built by
// TestMain, or bin (DVP_LOAD_DVP: another build of dvp, to compare two
// builds in runs one after the other). With profile, a dvp built with the
// dvppprof tag from this source tree, with its profiling endpoint on
// (DVP_ENGINE_PPROF); e.pprof is the endpoint's URL.
func startLoadEngine(t *testing.T, dataDir, bin string, profile bool) *engineProc {
	if bin == "" && !profile {
		return startEngine(t, dataDir)
	}
	if profile {
		if bin != "" {
			t.Fatal("DVP_LOAD_DVP and DVP_LOAD_PROFILE: profiling needs the dvppprof build of this tree")
		}
		var err error
		if bin, err = testbuild.DVP(filepath.Join("..", "..", ".."), "-tags", "dvppprof"); err != nil {
			t.Fatalf("building dvp with -tags dvppprof: %v", err)
		}
	}
	ready, addr := filepath.Join(t.TempDir(), "ready"), filepath.Join(t.TempDir(), "pprof")
	args := []string{"engine", "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--ready-file", ready}
	e := &engineProc{t: t, dataDir: dataDir, out: &testio.Buffer{}, exited: make(chan struct{}), args: args}
	e.cmd = exec.Command(bin, args...)
	e.cmd.Env = append(baseEnv(t), "DVP_ENGINE_ADMIN_PASSWORD="+adminPassword)
	if profile {
		e.cmd.Env = append(e.cmd.Env, "DVP_ENGINE_PPROF="+addr)
	}
	launchEngine(t, e, ready)
	if profile {
		b, err := os.ReadFile(addr)
		if err != nil {
			t.Fatalf("the engine wrote no profiling address: %v\n%s", err, e.out)
		}
		e.pprof = strings.TrimSpace(string(b))
	}
	return e
}

// storeStats reads the store's write counters from a profiled engine
// (store.WriteStats); nil without profiling.
func storeStats(t *testing.T, e *engineProc) map[string]float64 {
	if e.pprof == "" {
		return nil
	}
	resp, err := http.Get(strings.TrimSuffix(e.pprof, "pprof/") + "dvp/store")
	if err != nil {
		t.Logf("store counters: %v", err)
		return nil
	}
	defer resp.Body.Close()
	var m map[string]float64
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Logf("store counters: %v", err)
		return nil
	}
	return m
}

// saveProfiles saves the engine's profiles of the middle third of the
// loop to dir: cpu.pprof, block.pprof and mutex.pprof (what happened in
// those seconds) and goroutines.txt (every goroutine's stack at its start).
func saveProfiles(t *testing.T, e *engineProc, dir string, loop time.Duration) {
	third := loop / 3
	secs := max(1, int(third/time.Second))
	time.Sleep(third)
	get := func(name, path string) {
		resp, err := http.Get(e.pprof + path)
		if err != nil {
			t.Logf("profile %s: %v", name, err)
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("%s: %.200s", resp.Status, b)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
		if err != nil {
			t.Logf("profile %s: %v", name, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Log(err)
		return
	}
	get("goroutines.txt", "goroutine?debug=1")
	var wg sync.WaitGroup
	for name, path := range map[string]string{
		"cpu.pprof":   fmt.Sprintf("profile?seconds=%d", secs),
		"block.pprof": fmt.Sprintf("block?seconds=%d", secs),
		"mutex.pprof": fmt.Sprintf("mutex?seconds=%d", secs),
	} {
		wg.Add(1)
		go func() { defer wg.Done(); get(name, path) }()
	}
	wg.Wait()
	fmt.Printf("load: the engine's profiles of the middle third (%d s) are in %s\n", secs, dir)
}

// envelopeHead reads an answer's envelope up to its type and status.
func envelopeHead(b []byte) (typ, status string, err error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", "", fmt.Errorf("not a JSON object: %v", err)
	}
	for typ == "" || status == "" {
		k, err := dec.Token()
		if err != nil {
			return typ, status, err
		}
		switch k {
		case "type":
			err = dec.Decode(&typ)
		case "status":
			err = dec.Decode(&status)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return typ, status, err
		}
	}
	return typ, status, nil
}

// procCPU is the CPU time (user+sys) a process has used so far, from
// /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %v", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// selfCPU is the CPU time (user+sys) of this test process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[min(i, len(s)-1)].Round(10 * time.Microsecond)
}

func envStr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(t *testing.T, k string, def int) int {
	v, err := strconv.Atoi(envStr(k, strconv.Itoa(def)))
	if err != nil || v <= 0 {
		t.Fatalf("%s: %v", k, err)
	}
	return v
}
