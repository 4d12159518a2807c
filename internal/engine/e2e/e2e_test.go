//go:build e2e

// Package e2e tests the real dvp binary end to end: `dvp engine serve` runs
// as a separate process on 127.0.0.1 with a temporary data directory, and
// `dvp upload` and `dvp download-logs` run against it as separate
// processes too.
//
// The suite is built only with the e2e build tag: make e2e runs it (go test
// -tags e2e ./internal/engine/e2e/), make test does not.
package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/testbuild"
	"github.com/dvpkit/dvp/internal/testio"
	_ "modernc.org/sqlite"
)

const adminPassword = "e2e-Pässword"

var (
	dvpBin     string // the dvp binary under test (testbuild.DVP)
	scratchDir string // TestMain's directory, removed at its end
	pluginBin  []byte // a real linux/amd64 ELF
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dvp-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		scratchDir = dir
		if dvpBin, err = testbuild.DVP(filepath.Join("..", "..", "..")); err != nil {
			fmt.Fprintln(os.Stderr, "building dvp:", err)
			return 1
		}
		if pluginBin, err = enginetest.RealPluginBinary(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// engineProc is a running `dvp engine serve`.
type engineProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	url     string
	dataDir string
	out     *testio.Buffer
	exited  chan struct{}
	waitErr error
	args    []string
	pprof   string // the profiling endpoint's URL (startProfiledEngine)
}

func startEngine(t *testing.T, dataDir string, extra ...string) *engineProc {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	args := append([]string{"engine", "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--ready-file", ready}, extra...)
	e := &engineProc{t: t, dataDir: dataDir, out: &testio.Buffer{}, exited: make(chan struct{}), args: args}
	e.cmd = exec.Command(dvpBin, args...)
	e.cmd.Env = append(baseEnv(t), "DVP_ENGINE_ADMIN_PASSWORD="+adminPassword)
	launchEngine(t, e, ready)
	if !strings.Contains(e.out.String(), "dvp engine listening on "+e.url) {
		t.Errorf("no 'listening on' line:\n%s", e.out)
	}
	return e
}

// launchEngine starts e.cmd (its output into e.out) and waits until the
// engine writes its URL to the ready file, failing the test if the engine
// exits first or does not start.
func launchEngine(t *testing.T, e *engineProc, ready string) *engineProc {
	t.Helper()
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { e.waitErr = e.cmd.Wait(); close(e.exited) }()
	t.Cleanup(func() { e.kill() })
	for i := 0; ; i++ {
		if b, err := os.ReadFile(ready); err == nil && strings.HasSuffix(string(b), "\n") {
			e.url = strings.TrimSpace(string(b))
			return e
		}
		select {
		case <-e.exited:
			t.Fatalf("the engine exited (%v):\n%s", e.waitErr, e.out)
		default:
		}
		if i > 1500 {
			t.Fatalf("the engine did not start:\n%s", e.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL (if the engine still runs) and waits for the exit.
func (e *engineProc) kill() {
	select {
	case <-e.exited:
	default:
		e.cmd.Process.Kill()
		<-e.exited
	}
}

// stop sends SIGTERM and expects a clean exit: the graceful stop, then exit
// 143 as every dvp command ends on SIGTERM.
func (e *engineProc) stop() {
	e.t.Helper()
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
		if code := e.cmd.ProcessState.ExitCode(); code != 143 {
			e.t.Errorf("the engine did not exit cleanly: %v\n%s", e.waitErr, e.out)
		}
	case <-time.After(30 * time.Second):
		e.t.Fatal("the engine did not stop on SIGTERM")
	}
	if !strings.Contains(e.out.String(), "dvp engine stopped") || !strings.Contains(e.out.String(), "Interrupted (SIGTERM): the engine stopped gracefully") {
		e.t.Errorf("no clean stop:\n%s", e.out)
	}
}

// baseEnv is the environment of a dvp a test runs: this process's without
// DVP_* settings, with a home directory of its own.
func baseEnv(tb testing.TB) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DVP_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+tb.TempDir())
}

type result struct {
	stdout, stderr string
	code           int
	maxRSSKiB      int64
	elapsed        time.Duration
}

// dvp runs the dvp binary with the engine password in DVP_PASSWORD
// (unless env overrides it).
func dvp(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(dvpBin, args...)
	cmd.Env = append(append(baseEnv(t), "DVP_PASSWORD="+adminPassword), env...)
	r := runResult(t, cmd)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSKiB = ru.Maxrss
	}
	return r
}

// runResult runs cmd and returns its output, exit code and time; a
// command that cannot start fails the test.
func runResult(tb testing.TB, cmd *exec.Cmd) result {
	tb.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		tb.Fatal(err)
	}
	return r
}

var (
	rssLaunchOnce sync.Once
	rssLaunch     string // testdata/rsslaunch, built on first use
	rssLaunchErr  error
)

// dvpRSS runs dvp as dvp does, but through testdata/rsslaunch (see there
// why), so that maxRSSKiB is dvp's own peak resident set size.
func dvpRSS(tb testing.TB, args ...string) result {
	tb.Helper()
	rssLaunchOnce.Do(func() {
		rssLaunch = filepath.Join(scratchDir, "rsslaunch")
		out, err := exec.Command("go", "build", "-o", rssLaunch, "./testdata/rsslaunch").CombinedOutput()
		if err != nil {
			rssLaunchErr = fmt.Errorf("building rsslaunch: %v\n%s", err, out)
		}
	})
	if rssLaunchErr != nil {
		tb.Fatal(rssLaunchErr)
	}
	rssFile := filepath.Join(tb.TempDir(), "rss")
	cmd := exec.Command(rssLaunch, append([]string{dvpBin}, args...)...)
	cmd.Env = append(baseEnv(tb), "DVP_PASSWORD="+adminPassword, "RSSLAUNCH_OUT="+rssFile)
	r := runResult(tb, cmd)
	kib, err := os.ReadFile(rssFile)
	if err != nil {
		tb.Fatalf("rsslaunch wrote no RSS: %v", err)
	}
	if r.maxRSSKiB, err = strconv.ParseInt(string(kib), 10, 64); err != nil {
		tb.Fatal(err)
	}
	return r
}

func writeArtifact(t testing.TB, o enginetest.Options) string {
	t.Helper()
	if o.Binary == nil {
		o.Binary = pluginBin
	}
	p := filepath.Join(t.TempDir(), "artifact.json")
	if _, err := enginetest.WriteFile(p, o); err != nil {
		t.Fatal(err)
	}
	return p
}

func upload(t *testing.T, e *engineProc, path string, extra ...string) result {
	t.Helper()
	return dvp(t, nil, append([]string{"upload", "-e", e.url, "-u", "admin", "-a", path}, extra...)...)
}

// api is a raw API session against the engine, for checks.
type api struct {
	t      *testing.T
	base   string
	cookie string
}

func (e *engineProc) api(t *testing.T) *api {
	a := &api{t: t, base: e.url}
	a.post("delphix/session", `{"version": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 16}, "type": "APISession"}`)
	if code, b := a.post("delphix/login", `{"type": "LoginRequest", "username": "admin", "password": "`+adminPassword+`"}`); code != 200 {
		t.Fatalf("login: %s", b)
	}
	return a
}

func (a *api) do(method, path, ctype string, body io.Reader) (int, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.base+"/resources/json/"+path, body)
	req.Header.Set("Content-Type", ctype)
	if a.cookie != "" {
		req.Header.Set("Cookie", a.cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	if sc := resp.Header.Get("Set-Cookie"); sc != "" {
		a.cookie = sc
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (a *api) post(path, body string) (int, []byte) {
	return a.do("POST", path, "application/json", strings.NewReader(body))
}

type toolkit struct {
	Reference        string `json:"reference"`
	Identifier       string `json:"identifier"`
	Name             string `json:"name"`
	BuildNumber      string `json:"buildNumber"`
	SourceCodeSha256 string `json:"sourceCodeSha256"`
}

func (a *api) toolkits() []toolkit {
	a.t.Helper()
	code, b := a.do("GET", "delphix/toolkit", "application/json", nil)
	var env struct {
		Type   string    `json:"type"`
		Result []toolkit `json:"result"`
	}
	if code != 200 || json.Unmarshal(b, &env) != nil || env.Type != "ListResult" {
		a.t.Fatalf("toolkits: %d %s", code, b)
	}
	return env.Result
}

func (a *api) token() string {
	a.t.Helper()
	_, b := a.post("delphix/toolkit/requestUploadToken", "")
	var env struct {
		Result struct{ Token string }
	}
	json.Unmarshal(b, &env)
	if env.Result.Token == "" {
		a.t.Fatalf("token: %s", b)
	}
	return env.Result.Token
}

func (a *api) uploadWith(token string, doc []byte) (int, []byte) {
	var body bytes.Buffer
	body.WriteString("------------boundary------\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n" + token + "\r\n")
	body.WriteString("------------boundary------\r\nContent-Disposition:form-data; name=\"file\"; filename=\"artifact.json\"\r\nContent-Type: application/octet-stream\r\n\r\n")
	body.Write(doc)
	body.WriteString("\r\n------------boundary--------\r\n")
	return a.do("POST", "delphix/data/upload", "multipart/form-data; boundary=----------boundary------", &body)
}

func TestUploadUpgradeAndRefusals(t *testing.T) {
	e := startEngine(t, t.TempDir())
	// A first upload: silent, exit 0.
	r := upload(t, e, writeArtifact(t, enginetest.Options{BuildNumber: "1.0", MigrationIDs: []string{"1"}}))
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("upload: %+v", r)
	}
	// An upgrade with --wait: the job's events, then dvp 5.0.1's success line.
	r = upload(t, e, writeArtifact(t, enginetest.Options{BuildNumber: "1.2", MigrationIDs: []string{"1", "1.1"}}), "--wait", "-v")
	if r.code != 0 {
		t.Fatalf("upgrade --wait: %+v", r)
	}
	for _, want := range []string{"Code: event.toolkit.upgrade.started", `Upgrading plugin "test-plugin" from build 1.0 to build 1.2.`,
		"Code: event.toolkit.upgrade.completed", "Plugin artifact.json was successfully uploaded."} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("upgrade output lacks %q:\n%s", want, r.stderr)
		}
	}
	// --output json on stdout.
	r = upload(t, e, writeArtifact(t, enginetest.Options{BuildNumber: "1.2", MigrationIDs: []string{"1", "1.1"}}), "--wait", "-o", "json")
	var rep struct {
		Action, Job string
		Waited      bool
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil || !strings.HasPrefix(rep.Action, "ACTION-") || !strings.HasPrefix(rep.Job, "JOB-") || !rep.Waited {
		t.Errorf("json output: %+v", r)
	}
	// A downgrade is refused.
	r = upload(t, e, writeArtifact(t, enginetest.Options{BuildNumber: "1.1", MigrationIDs: []string{"1", "1.1"}}))
	if r.code != 1 || !strings.Contains(r.stderr, "API request failed with HTTP Status 400\nDetails: Plugin \"test-plugin\" cannot be upgraded from build 1.2 to build 1.1") ||
		!strings.Contains(r.stderr, "\nAction: ") {
		t.Errorf("downgrade: %+v", r)
	}
	// A corrupt artifact is refused.
	bad := writeArtifact(t, enginetest.Options{BuildNumber: "5", Binary: []byte("#!/bin/sh\n")})
	r = upload(t, e, bad)
	if r.code != 1 || !strings.Contains(r.stderr, "was refused") || !strings.Contains(r.stderr, "is not an ELF executable") {
		t.Errorf("corrupt: %+v", r)
	}
	notJSON := filepath.Join(t.TempDir(), "artifact.json")
	os.WriteFile(notJSON, []byte("{not json"), 0o644)
	r = upload(t, e, notJSON)
	if r.code != 1 || !strings.Contains(r.stderr, "Upload failed because the upload artifact was not a valid json file.") {
		t.Errorf("invalid JSON: %+v", r)
	}
	a := e.api(t)
	if tk := a.toolkits(); len(tk) != 1 || tk[0].BuildNumber != "1.2" {
		t.Errorf("toolkits after refusals: %+v", tk)
	}
}

func TestWrongPasswordAndMissingOptions(t *testing.T) {
	e := startEngine(t, t.TempDir())
	art := writeArtifact(t, enginetest.Options{})
	r := dvp(t, []string{"DVP_PASSWORD=wrong"}, "upload", "-e", e.url, "-u", "admin", "-a", art)
	if r.code != 1 || !strings.Contains(r.stderr, "API request failed with HTTP Status 401\nDetails: Invalid username or password.\nAction: Try with a different set of credentials.") {
		t.Errorf("wrong password: %+v", r)
	}
	if strings.Contains(r.stderr+r.stdout, "wrong") {
		t.Errorf("the password was printed: %+v", r)
	}
	r = dvp(t, nil, "upload", "-u", "admin", "-a", art)
	if r.code != 2 || !strings.Contains(r.stderr, "Invalid value for '-e' / '--engine': Option is required") {
		t.Errorf("no engine: %+v", r)
	}
	r = dvp(t, nil, "upload", "-e", e.url, "-u", "admin", "-a", "/not/a/real/file/artifact.json")
	if r.code != 2 || !strings.Contains(r.stderr, "Invalid value for '-a' / '--upload-artifact': File '/not/a/real/file/artifact.json' does not exist.") {
		t.Errorf("no artifact: %+v", r)
	}
	// No password anywhere and no terminal: a clear error, exit 1.
	cmd := exec.Command(dvpBin, "upload", "-e", e.url, "-u", "admin", "-a", art)
	cmd.Env = baseEnv(t)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "--password-stdin") {
		t.Errorf("no password: %v %s", err, out)
	}
	// --password-stdin.
	cmd = exec.Command(dvpBin, "upload", "-e", e.url, "-u", "admin", "-a", art, "--password-stdin")
	cmd.Env = baseEnv(t)
	cmd.Stdin = strings.NewReader(adminPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("--password-stdin: %v %s", err, out)
	}
	// The engine is down: a network failure, exit 1.
	e.stop()
	r = upload(t, e, art)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "The request to the engine failed.\n") {
		t.Errorf("engine down: %+v", r)
	}
}

func TestTokensAreSingleUseAndExpire(t *testing.T) {
	e := startEngine(t, t.TempDir(), "--upload-token-ttl", "1s")
	a := e.api(t)
	doc, _ := os.ReadFile(writeArtifact(t, enginetest.Options{}))
	tok := a.token()
	if code, b := a.uploadWith(tok, doc); code != 200 {
		t.Fatalf("upload: %d %s", code, b)
	}
	if code, b := a.uploadWith(tok, doc); code != 403 || !bytes.Contains(b, []byte("was already used")) {
		t.Errorf("reused token: %d %s", code, b)
	}
	tok = a.token()
	time.Sleep(1500 * time.Millisecond)
	if code, b := a.uploadWith(tok, doc); code != 403 || !bytes.Contains(b, []byte("has expired")) {
		t.Errorf("expired token: %d %s", code, b)
	}
}

func writeConfig(t *testing.T, id, name string) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "schema.json"), []byte("{}"), 0o644)
	cfg := fmt.Sprintf("id: %s\nname: %s\nlanguage: GO\nhostTypes:\n- UNIX\npluginType: DIRECT\nentryPoint: main:Plugin\nsrcDir: src\nschemaFile: schema.json\nbuildNumber: '1'\n", id, name)
	p := filepath.Join(dir, "plugin_config.yml")
	os.WriteFile(p, []byte(cfg), 0o644)
	return p
}

func TestDownloadLogs(t *testing.T) {
	e := startEngine(t, t.TempDir())
	if r := upload(t, e, writeArtifact(t, enginetest.Options{Name: "my plugin"})); r.code != 0 {
		t.Fatalf("upload: %+v", r)
	}
	cfg := writeConfig(t, enginetest.DefaultID, "my plugin")
	dir := t.TempDir()
	r := dvp(t, nil, "download-logs", "-e", e.url, "-u", "admin", "-c", cfg, "-d", dir)
	if r.code != 0 {
		t.Fatalf("download-logs: %+v", r)
	}
	path := strings.TrimSpace(r.stdout)
	if filepath.Dir(path) != dir || !strings.HasPrefix(filepath.Base(path), "dlpx-plugin-logs-my_plugin-") || !strings.HasSuffix(path, ".tar.gz") {
		t.Fatalf("path %q", path)
	}
	entries := readBundle(t, path)
	const name = "log/mgmt_log/plugin_log/my_plugin/upload.log"
	if len(entries) != 1 || !strings.Contains(entries[name], "installed as APPDATA_TOOLKIT-1 by admin") {
		t.Errorf("bundle entries %v, %s:\n%s", mapKeys(entries), name, entries[name])
	}
	// An unknown plugin: dvp 5.0.1's message.
	other := writeConfig(t, "11111111-2222-4333-8444-555555555555", "other")
	r = dvp(t, nil, "download-logs", "-e", e.url, "-u", "admin", "-c", other, "-d", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "Cannot find plugin other on Delphix Engine "+e.url+`. Upload your plugin with "dvp upload" and try again.`) {
		t.Errorf("unknown plugin: %+v", r)
	}
	r = dvp(t, nil, "download-logs", "-e", e.url, "-u", "admin", "-c", cfg, "-d", "/not/a/real/directory")
	if r.code != 2 || !strings.Contains(r.stderr, "Invalid value for '-d' / '--directory': Directory '/not/a/real/directory' does not exist.") {
		t.Errorf("bad directory: %+v", r)
	}
}

func TestRestartKeepsPlugins(t *testing.T) {
	data := t.TempDir()
	e := startEngine(t, data)
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		if r := upload(t, e, writeArtifact(t, enginetest.Options{ID: id, Name: fmt.Sprint("p", i), BuildNumber: fmt.Sprint(i + 1)})); r.code != 0 {
			t.Fatalf("upload: %+v", r)
		}
	}
	e.stop()
	e2 := startEngine(t, data)
	tk := e2.api(t).toolkits()
	if len(tk) != 3 || tk[2].Name != "p2" || tk[2].BuildNumber != "3" {
		t.Errorf("after restart: %+v", tk)
	}
	checkStore(t, data)
}

// checkStore opens the engine's database after it stopped and checks the
// store is consistent: the database is intact, every plugin's code blob
// exists with the right hash, no blob is unreferenced, no spool file is left.
func checkStore(t *testing.T, data string) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "engine.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %v %s", err, ok)
	}
	rows, err := db.Query("SELECT plugin_id, build_number, source_sha256 FROM toolkits")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	builds := map[string]string{}
	referenced := map[string]bool{}
	for rows.Next() {
		var id, build, sum string
		rows.Scan(&id, &build, &sum)
		builds[id] = build
		referenced[sum] = true
		b, err := os.ReadFile(filepath.Join(data, "blobs", "sha256", sum[:2], sum))
		if err != nil {
			t.Fatalf("plugin %s build %s: its code blob is missing: %v", id, build, err)
		}
		h := sha256.Sum256(b)
		if hex.EncodeToString(h[:]) != sum {
			t.Fatalf("plugin %s: its code blob is corrupt", id)
		}
	}
	filepath.WalkDir(filepath.Join(data, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !referenced[d.Name()] {
			t.Errorf("unreferenced blob %s", p)
		}
		return nil
	})
	return builds
}

// TestKillDuringUpload kills the engine (SIGKILL) at different moments of
// upgrades of a 24 MiB plugin, restarts it, and checks that the store holds
// either the old or the new build, whole, every time.
func TestKillDuringUpload(t *testing.T) {
	data := t.TempDir()
	e := startEngine(t, data)
	if r := upload(t, e, writeArtifact(t, enginetest.Options{BuildNumber: "1"})); r.code != 0 {
		t.Fatalf("first upload: %+v", r)
	}
	installed := "1"
	big := func(build string) string {
		return writeArtifact(t, enginetest.Options{BuildNumber: build, Padding: 24 << 20})
	}
	// Measure how long a big upgrade takes, to spread the kills over it.
	start := time.Now()
	if r := upload(t, e, big("2")); r.code != 0 {
		t.Fatalf("big upload: %+v", r)
	}
	installed = "2"
	span := time.Since(start)
	t.Logf("a 32 MiB upgrade takes %s", span)
	tmp := filepath.Join(data, "tmp")
	for i := 0; i < 6; i++ {
		build := fmt.Sprint(3 + i)
		art := big(build)
		cmd := exec.Command(dvpBin, "upload", "-e", e.url, "-u", "admin", "-a", art)
		cmd.Env = append(baseEnv(t), "DVP_PASSWORD="+adminPassword)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// Once the spool file has part of the decoded code: mid-upload.
			seen := false
			for deadline := time.Now().Add(20 * time.Second); !seen && time.Now().Before(deadline); {
				if m, _ := filepath.Glob(filepath.Join(tmp, "source-*")); len(m) > 0 {
					if st, err := os.Stat(m[0]); err == nil && st.Size() > 0 {
						seen = true
						continue
					}
				}
				time.Sleep(time.Millisecond)
			}
			if !seen {
				t.Fatal("never saw the upload in progress")
			}
		} else {
			time.Sleep(span * time.Duration(i) / 5)
		}
		e.kill()
		cmd.Wait()
		e = startEngine(t, data)
		e.stop()
		builds := checkStore(t, data)
		got := builds[enginetest.DefaultID]
		if got != installed && got != build {
			t.Fatalf("kill %d: build %q installed, want %s or %s", i, got, installed, build)
		}
		t.Logf("kill %d after %s: build %s", i, span*time.Duration(i)/5, got)
		installed = got
		if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
			t.Errorf("spool files left after restart: %v", entries)
		}
		e = startEngine(t, data)
	}
	e.stop()
}

func TestConcurrentUploads(t *testing.T) {
	e := startEngine(t, t.TempDir())
	const n = 20
	arts := make([]string, n)
	for i := range arts {
		arts[i] = writeArtifact(t, enginetest.Options{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: fmt.Sprintf("plugin-%02d", i)})
	}
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range arts {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = upload(t, e, arts[i], "--wait")
		}(i)
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("upload %d: %+v", i, r)
		}
	}
	if tk := e.api(t).toolkits(); len(tk) != n {
		t.Errorf("%d of %d plugins landed", len(tk), n)
	}
}

func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dvp test engine"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func TestTLS(t *testing.T) {
	certFile, keyFile := selfSignedCert(t, t.TempDir())
	e := startEngine(t, t.TempDir(), "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(e.url, "https://") {
		t.Fatalf("url %s", e.url)
	}
	hostport := strings.TrimPrefix(e.url, "https://")
	art := writeArtifact(t, enginetest.Options{})
	// A bare host:port means HTTPS.
	r := dvp(t, nil, "upload", "-e", hostport, "-u", "admin", "-a", art)
	if r.code != 1 || !strings.Contains(r.stderr, "--ca-file") {
		t.Errorf("untrusted certificate: %+v", r)
	}
	if r := dvp(t, nil, "upload", "-e", hostport, "-u", "admin", "-a", art, "--ca-file", certFile); r.code != 0 {
		t.Errorf("--ca-file: %+v", r)
	}
	if r := dvp(t, nil, "upload", "-e", hostport, "-u", "admin", "-a", art, "--insecure-skip-tls-verify"); r.code != 0 || !strings.Contains(r.stderr, "not verified") {
		t.Errorf("--insecure-skip-tls-verify: %+v", r)
	}
}

func TestGeneratedPasswordIsPrintedOnce(t *testing.T) {
	data := t.TempDir()
	run := func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ready := filepath.Join(t.TempDir(), "ready")
		cmd := exec.CommandContext(ctx, dvpBin, "engine", "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--ready-file", ready)
		cmd.Env = baseEnv(t)
		out := &testio.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.Start()
		for ctx.Err() == nil {
			if _, err := os.Stat(ready); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
		return out.String()
	}
	first := run()
	if !strings.Contains(first, "Generated the password of user admin: ") {
		t.Fatalf("first start:\n%s", first)
	}
	if second := run(); strings.Contains(second, "Generated the password") {
		t.Errorf("the password was generated again:\n%s", second)
	}
}
