//go:build e2e

package e2e

// Faults against the real binaries: 5xx bursts from a proxy in front of the
// engine, and an engine whose data directory fills up. (The engine killed
// during uploads is TestKillDuringUpload; more stalled and slow
// connections are in internal/upload/faults_test.go.)

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/testio"
)

// faultProxy forwards to the engine, except that it answers the first
// burst[path] requests of a path (under /resources/json/) with a 503
// (after reading their body); it counts every request per path (action
// references are replaced by *).
type faultProxy struct {
	mu    sync.Mutex
	count map[string]int
	burst map[string]int
	srv   *httptest.Server
}

func newFaultProxy(t *testing.T, engineURL string) *faultProxy {
	u, err := url.Parse(engineURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &faultProxy{count: map[string]int{}, burst: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/resources/json/")
		if rest, ok := strings.CutPrefix(path, "delphix/action/"); ok {
			_, sub, _ := strings.Cut(rest, "/")
			path = "delphix/action/*/" + sub // any action
		}
		p.mu.Lock()
		p.count[path]++
		fail := p.count[path] <= p.burst[path]
		p.mu.Unlock()
		if fail {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "<html><body>503 Service Unavailable</body></html>\n")
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *faultProxy) set(burst map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.burst = burst
	p.count = map[string]int{}
}

func (p *faultProxy) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := map[string]int{}
	for k, v := range p.count {
		c[k] = v
	}
	return c
}

// TestFault5xxBursts: dvp upload --wait of an upgrade through a proxy that
// answers 503 to the first two session requests and the first two job
// polls succeeds (the idempotent requests are retried); login and the
// upload are sent once. A proxy that answers 503 to every upload makes dvp
// fail at once with the status, the upload sent once and nothing changed
// on the engine.
func TestFault5xxBursts(t *testing.T) {
	e := startEngine(t, t.TempDir())
	if r := upload(t, e, writeArtifact(t, enginetest.Options{BuildNumber: "1"})); r.code != 0 {
		t.Fatalf("first upload: %+v", r)
	}
	p := newFaultProxy(t, e.url)
	p.set(map[string]int{"delphix/session": 2, "delphix/action/*/getJob": 2})
	r := dvp(t, nil, "upload", "-e", p.srv.URL, "-u", "admin", "-a", writeArtifact(t, enginetest.Options{BuildNumber: "2"}), "--wait", "-v")
	if r.code != 0 || !strings.Contains(r.stderr, "Plugin artifact.json was successfully uploaded.") {
		t.Fatalf("upload through 5xx bursts: %+v", r)
	}
	c := p.counts()
	if c["delphix/session"] != 3 || c["delphix/login"] != 1 || c["delphix/data/upload"] != 1 || c["delphix/action/*/getJob"] < 3 {
		t.Errorf("requests %v: session 3 (2 retries), login 1, upload 1, getJob >= 3", c)
	}
	if !strings.Contains(r.stderr, "Retrying POST delphix/session") {
		t.Errorf("the retries are not shown with -v:\n%s", r.stderr)
	}
	if tk := e.api(t).toolkits(); len(tk) != 1 || tk[0].BuildNumber != "2" {
		t.Errorf("toolkits %+v", tk)
	}

	p.set(map[string]int{"delphix/data/upload": 1000})
	r = dvp(t, nil, "upload", "-e", p.srv.URL, "-u", "admin", "-a", writeArtifact(t, enginetest.Options{BuildNumber: "3"}), "--wait")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Received an unexpected error with HTTP Status 503,\nDumping full response:\n<html>") {
		t.Errorf("upload answered 503: %+v", r)
	}
	if c := p.counts(); c["delphix/data/upload"] != 1 {
		t.Errorf("the upload was sent %d times; it must never be re-sent", c["delphix/data/upload"])
	}
	if tk := e.api(t).toolkits(); len(tk) != 1 || tk[0].BuildNumber != "2" {
		t.Errorf("toolkits after a refused upload %+v", tk)
	}

	// A longer burst on an idempotent request: a clear failure after 1+3 tries.
	p.set(map[string]int{"delphix/session": 1000})
	r = dvp(t, nil, "upload", "-e", p.srv.URL, "-u", "admin", "-a", writeArtifact(t, enginetest.Options{BuildNumber: "3"}))
	if r.code != 1 || !strings.Contains(r.stderr, "HTTP Status 503") {
		t.Errorf("session answered 503: %+v", r)
	}
	if c := p.counts(); c["delphix/session"] != 4 || c["delphix/login"] != 0 {
		t.Errorf("requests %v: session 4 times, no login", c)
	}
}

// TestFaultEngineDiskFull: the engine's data directory is a 24 MiB tmpfs
// (mode 0700: the engine refuses a data directory others can write);
// an upgrade whose code (32 MiB) does not fit is refused with a clear
// error, the installed build stays whole (database and blob), the spool
// space is given back, and the next upgrade that fits is installed.
func TestFaultEngineDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	data := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", data).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", data).Run() })
	e := startEngine(t, data)
	if r := upload(t, e, writeArtifact(t, enginetest.Options{BuildNumber: "1"})); r.code != 0 {
		t.Fatalf("first upload: %+v", r)
	}
	before := e.api(t).toolkits()
	r := upload(t, e, writeArtifact(t, enginetest.Options{BuildNumber: "2", Padding: 32 << 20}), "--wait")
	if r.code != 1 || !strings.Contains(r.stderr, "no space left on device") {
		t.Errorf("upload on a full disk: %+v\nengine:\n%s", r, e.out)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(e.out.String(), "goroutine ") {
		t.Errorf("a stack trace:\n%s\n%s", r.stderr, e.out)
	}
	after := e.api(t).toolkits()
	if len(after) != 1 || after[0] != before[0] {
		t.Errorf("toolkits changed: %+v -> %+v", before, after)
	}
	if m, _ := filepath.Glob(filepath.Join(data, "tmp", "*")); len(m) != 0 {
		t.Errorf("spool files left: %v", m)
	}
	if r := upload(t, e, writeArtifact(t, enginetest.Options{BuildNumber: "3", Padding: 4 << 20}), "--wait"); r.code != 0 {
		t.Errorf("upload after the full disk: %+v\nengine:\n%s", r, e.out)
	}
	e.stop()
	// Restarted once, as TestKillDuringUpload does: the start-up recovery
	// removes the blobs that upgrades replaced (see TestUpgradesLeakBlobs).
	e = startEngine(t, data)
	e.stop()
	if builds := checkStore(t, data); builds[enginetest.DefaultID] != "3" {
		t.Errorf("store %v", builds)
	}
}

// TestUpgradesLeakBlobs: a running engine must drop the code blob of a
// build an upgrade replaced (it used to keep them until its next start, so
// repeated upgrades filled a small data disk).
func TestUpgradesLeakBlobs(t *testing.T) {
	data := t.TempDir()
	e := startEngine(t, data)
	for i := 1; i <= 3; i++ {
		if r := upload(t, e, writeArtifact(t, enginetest.Options{BuildNumber: fmt.Sprint(i), Padding: int64(i) << 10}), "--wait"); r.code != 0 {
			t.Fatalf("upload %d: %+v", i, r)
		}
	}
	var blobs []string
	filepath.WalkDir(filepath.Join(data, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			blobs = append(blobs, p)
		}
		return nil
	})
	if len(blobs) != 1 {
		t.Errorf("%d blobs for one installed plugin after 2 upgrades: %v", len(blobs), blobs)
	}
}

// ---- secrets ----

// startEngineHome is startEngine with a HOME of the caller's choice (so the
// engine's debug log can be read) and -vvv.
func startEngineHome(t *testing.T, dataDir, home, password string, env ...string) *engineProc {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	args := []string{"engine", "serve", "-vvv", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--ready-file", ready}
	e := &engineProc{t: t, dataDir: dataDir, out: &testio.Buffer{}, exited: make(chan struct{}), args: args}
	e.cmd = exec.Command(dvpBin, args...)
	e.cmd.Env = append(append(baseEnv(t), "HOME="+home, "DVP_ENGINE_ADMIN_PASSWORD="+password), env...)
	return launchEngine(t, e, ready)
}

// secretForms are the ways a secret could show up in a log: as is, JSON
// escaped (Python's json.dumps escapes non-ASCII), URL-encoded, base64.
func secretForms(s string) []string {
	var j strings.Builder
	for _, r := range s {
		if r < 0x80 {
			j.WriteRune(r)
		} else {
			fmt.Fprintf(&j, `\u%04x`, r)
		}
	}
	return []string{s, j.String(), url.QueryEscape(s), base64.StdEncoding.EncodeToString([]byte(s))}
}

// TestSecretsNeverLeak runs a whole session at the highest verbosity —
// engine with a password file... (env), a failed login with a wrong
// password, uploads (install, upgrade --wait, --password-stdin), a refused
// upload, download-logs — then reads everything it produced: stdout and
// stderr of every process, the debug logs under each HOME/.dvp/logs, every
// file of the engine's data directory (the database included, as bytes),
// and the downloaded bundle (raw and unpacked). Neither the admin password
// nor the wrong password may appear in any form.
func TestSecretsNeverLeak(t *testing.T) {
	const (
		password = "Sekr3t-ädmin-\"pw\"-4242"
		wrong    = "Wr0ng-guess-Ω-7777"
	)
	root := t.TempDir()
	engineHome, clientHome, data, logsDir := filepath.Join(root, "engine-home"), filepath.Join(root, "client-home"), filepath.Join(root, "data"), filepath.Join(root, "bundles")
	for _, d := range []string{engineHome, clientHome, logsDir} {
		os.MkdirAll(d, 0o755)
	}
	e := startEngineHome(t, data, engineHome, password)
	rec := &recorder{t: t, home: clientHome}
	run := rec.run
	pw := []string{"DVP_PASSWORD=" + password}
	if r := run("", []string{"DVP_PASSWORD=" + wrong}, "upload", "-vvv", "-e", e.url, "-u", "admin", "-a", writeArtifact(t, enginetest.Options{Name: "secret test"})); r.code != 1 || !strings.Contains(r.stderr, "Invalid username or password.") {
		t.Fatalf("wrong password: %+v", r)
	}
	if r := run("", pw, "upload", "-vvv", "-e", e.url, "-u", "admin", "-a", writeArtifact(t, enginetest.Options{Name: "secret test"})); r.code != 0 {
		t.Fatalf("upload: %+v", r)
	}
	if r := run(password+"\n", nil, "upload", "-vvv", "--password-stdin", "-e", e.url, "-u", "admin", "--wait", "-a", writeArtifact(t, enginetest.Options{Name: "secret test", BuildNumber: "2"})); r.code != 0 {
		t.Fatalf("upgrade: %+v", r)
	}
	// The command line goes to the debug log: --password's value must not.
	passwordFlag := []string{"--password", password}
	if r := run("", []string{"DVP_PASSWORD=" + password}, append(append([]string{"upload", "-vvv"}, passwordFlag...), "-e", e.url, "-u", "admin", "-a", writeArtifact(t, enginetest.Options{Name: "secret test", BuildNumber: "1"}))...); r.code != 1 {
		t.Fatalf("downgrade must be refused: %+v", r)
	}
	cfg := writeConfig(t, enginetest.DefaultID, "secret test")
	r := run("", pw, "download-logs", "-vvv", "-e", e.url, "-u", "admin", "-c", cfg, "-d", logsDir)
	if r.code != 0 {
		t.Fatalf("download-logs: %+v", r)
	}
	e.stop()
	rec.outputs = append(rec.outputs, "engine output:\n"+e.out.String())
	checkNoSecrets(t, []string{engineHome, clientHome, data, logsDir}, rec.outputs, password, wrong)
}

// recorder runs dvp with HOME=home and keeps every stdout and stderr.
type recorder struct {
	t       *testing.T
	home    string
	env     []string
	outputs []string
}

func (rec *recorder) run(stdin string, env []string, args ...string) result {
	rec.t.Helper()
	cmd := exec.Command(dvpBin, args...)
	cmd.Env = append(append(append(baseEnv(rec.t), "HOME="+rec.home), rec.env...), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		rec.t.Fatal(err)
	}
	// The command's name only: its arguments hold the secrets under test.
	rec.outputs = append(rec.outputs, fmt.Sprintf("dvp %s stdout:\n%s\nstderr:\n%s", args[0], r.stdout, r.stderr))
	return r
}

// checkNoSecrets reads every file under dirs (the unpacked content of each
// .tar.gz among them too) and every output, and fails the test where a
// secret appears in any of its forms (secretForms). It expects the debug
// logs of the client and the engine among the files.
func checkNoSecrets(t *testing.T, dirs, outputs []string, secrets ...string) {
	t.Helper()
	files := map[string][]byte{}
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				b, _ := os.ReadFile(p)
				files[p] = b
			}
			return nil
		})
	}
	var bundles []string
	for p := range files {
		if strings.HasSuffix(p, ".tar.gz") {
			bundles = append(bundles, p)
		}
	}
	for _, bundle := range bundles {
		gz, err := gzip.NewReader(bytes.NewReader(files[bundle]))
		if err != nil {
			t.Fatalf("%s: %v", bundle, err)
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(tr)
			files[bundle+"!"+h.Name] = b
		}
	}
	var debugLogs int
	for p := range files {
		if strings.HasSuffix(p, "debug.log") {
			debugLogs++
		}
	}
	if debugLogs < 2 {
		t.Errorf("expected the debug logs of the client and the engine, found %d among %d files", debugLogs, len(files))
	}
	for i, o := range outputs {
		files[fmt.Sprintf("output %d", i)] = []byte(o)
	}
	forms := 0
	for _, secret := range secrets {
		for _, form := range secretForms(secret) {
			forms++
			for name, b := range files {
				if i := bytes.Index(b, []byte(form)); i >= 0 {
					lo, hi := max(0, i-200), min(len(b), i+len(form)+50)
					t.Errorf("secret %q found in %s:\n%s", form, name, b[lo:hi])
				}
			}
		}
	}
	t.Logf("checked %d files and outputs (%d bundles, %d debug logs) for %d secret forms", len(files), len(bundles), debugLogs, forms)
}

// silentServer accepts connections and never answers; it returns its
// address and a channel of the accepted connections.
func silentServer(t *testing.T) (string, chan net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for len(accepted) > 0 {
			(<-accepted).Close()
		}
	})
	return ln.Addr().String(), accepted
}

// TestFaultStalledEngineTimesOut: dvp upload --read-timeout 1s against a
// server that accepts and never answers: each attempt of the session
// request ends after 1 s without progress, it is retried (3 times, with
// backoff), then dvp fails with a clear message, exit 1, no stack trace.
func TestFaultStalledEngineTimesOut(t *testing.T) {
	addr, accepted := silentServer(t)
	start := time.Now()
	r := dvp(t, nil, "upload", "--read-timeout", "1s", "-e", "http://"+addr, "-u", "admin", "-a", writeArtifact(t, enginetest.Options{}))
	d := time.Since(start)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "The request to the engine failed.\n") || !strings.Contains(r.stderr, "(no progress for 1s)") ||
		strings.Contains(r.stderr, "goroutine") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if n := len(accepted); n != 4 {
		t.Errorf("%d connections: want the session request and its 3 retries", n)
	}
	// Exactly 4 attempts (above), each ended by the read timeout (the
	// message) and waited for: a lower bound, which load cannot break.
	if d < 4*time.Second {
		t.Errorf("took %s: want 4 attempts of 1 s plus backoff", d)
	}
}

// TestFaultStalledEngineInterrupted: dvp upload against a TCP server that
// accepts and then says nothing. The read timeout (10 min) is tested with a
// short value in internal/upload (TestFaultStalledEngine); here the user
// gives up with Ctrl-C: dvp stops at once, exit 130, one line saying what
// was left as it was, no stack trace.
func TestFaultStalledEngineInterrupted(t *testing.T) {
	addr, accepted := silentServer(t)
	cmd := exec.Command(dvpBin, "upload", "-e", "http://"+addr, "-u", "admin", "-a", writeArtifact(t, enginetest.Options{}))
	cmd.Env = append(baseEnv(t), "DVP_PASSWORD="+adminPassword)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("dvp never connected")
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// dvp stops because of the interrupt (its message below), not because
	// of the 10-minute read timeout; the wait below only guards against a
	// hang.
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("dvp did not stop on SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.HasPrefix(errb.String(), "Interrupted (SIGINT): ") ||
		strings.Count(errb.String(), "\n") != 1 || strings.Contains(errb.String(), "context canceled") || strings.Contains(errb.String(), "goroutine") {
		t.Errorf("exit %d, stderr:\n%s", code, errb.String())
	}
}
