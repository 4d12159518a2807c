//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/testio"
)

// hostileMarker is the sleep duration of the hostile plugin's processes
// (testdata/plugins/hostile).
const hostileMarker = "3141.59265"

// startEngineAs starts dvp engine serve with HOME home, as the user nobody
// when unprivileged (through setpriv, from a copy of dvp it can run).
func startEngineAs(t *testing.T, dataDir, home string, unprivileged bool, extra ...string) *engineProc {
	t.Helper()
	ready := filepath.Join(filepath.Dir(dataDir), "ready")
	args := append([]string{"engine", "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--ready-file", ready}, extra...)
	e := &engineProc{t: t, dataDir: dataDir, out: &testio.Buffer{}, exited: make(chan struct{}), args: args}
	bin := dvpBin
	if unprivileged {
		bin = filepath.Join(filepath.Dir(dataDir), "dvp")
		b, err := os.ReadFile(dvpBin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin}, args...)
		bin = "setpriv"
	}
	e.cmd = exec.Command(bin, args...)
	e.cmd.Env = append(baseEnv(t), "HOME="+home, "DVP_ENGINE_ADMIN_PASSWORD="+adminPassword)
	return launchEngine(t, e, ready)
}

// hostileRun builds and uploads the hostile plugin to a new engine, adds
// the local environment envName (whose discovery runs the escapes) and
// returns the outcome of each attempt, the engine and its data directory.
func hostileRun(t *testing.T, envName string, unprivileged bool, extra ...string) (map[string]string, *engineProc, string, result) {
	root, err := os.MkdirTemp("", "dvp-hostile-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	data, home, client := filepath.Join(root, "data"), filepath.Join(root, "home"), filepath.Join(root, "client")
	for _, d := range []string{home, client} {
		os.MkdirAll(d, 0o755)
	}
	// The engine user's own ~/.dvp holds its debug log: hidden too.
	os.MkdirAll(filepath.Join(home, ".dvp", "logs"), 0o700)
	os.WriteFile(filepath.Join(home, ".dvp", "logs", "debug.log"), []byte("engine user's log"), 0o600)
	if unprivileged {
		for _, d := range []string{root, home, filepath.Join(home, ".dvp"), filepath.Join(home, ".dvp", "logs"), filepath.Join(home, ".dvp", "logs", "debug.log")} {
			os.Chown(d, 65534, 65534)
		}
	}
	// The admin password in a file outside the engine's directories.
	pwFile := filepath.Join(home, "engine-password")
	os.WriteFile(pwFile, []byte(adminPassword+"\n"), 0o600)
	if unprivileged {
		os.Chown(pwFile, 65534, 65534)
	}
	// A hard link to it, and a file of the user's.
	if err := os.Link(pwFile, filepath.Join(home, "engine-password.link")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(home, "user-file"), []byte("a user's file"), 0o644)
	// A Unix socket anyone may connect to (such as an SSH agent's or the
	// Docker daemon's).
	ln, err := net.Listen("unix", filepath.Join(home, "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	os.Chmod(filepath.Join(home, "s.sock"), 0o777)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	e := startEngineAs(t, data, home, unprivileged, append([]string{"--admin-password-file", pwFile}, extra...)...)
	rec := &recorder{t: t, home: client, env: append([]string{"DVP_PASSWORD=" + adminPassword}, goCacheEnv(t)...)}
	eng := []string{"-e", e.url, "-u", "admin"}
	must := func(what string, args ...string) result {
		t.Helper()
		r := rec.run("", nil, args...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s\nengine:\n%s", what, r.code, r.stdout, r.stderr, e.out)
		}
		return r
	}
	project := filepath.Join(root, "plugin")
	if err := os.CopyFS(project, os.DirFS(filepath.Join("..", "..", "..", "testdata", "plugins", "hostile"))); err != nil {
		t.Fatal(err)
	}
	artifactPath := filepath.Join(root, "artifact.json")
	must("build", "build", "-c", filepath.Join(project, "plugin_config.yml"), "-a", artifactPath)
	must("upload", append(append([]string{"upload"}, eng...), "-a", artifactPath, "--wait")...)
	added := must("environment", append(append([]string{"environment", "add", envName}, eng...), "--local")...)

	return repositoryNames(t, e), e, data, added
}

// survivors lists the processes whose command line holds the marker and
// whose HOME is home (the engine's of the test: the plugin's processes
// inherit it; another test's engine, running at the same time on this
// machine, has another).
func survivors(home string) []string {
	return liveProcesses(func(pid string, cmdline []byte) bool {
		return bytes.Contains(cmdline, []byte(hostileMarker)) && !bytes.Contains(cmdline, []byte("__sandbox-init")) && homeIs(pid, home)
	})
}

// liveProcesses lists, as "PID: command line", the processes of the
// machine that are not zombies and whose command line (its arguments
// separated by NULs) match accepts.
func liveProcesses(match func(pid string, cmdline []byte) bool) []string {
	var found []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !match(e.Name(), b) {
			continue
		}
		if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil && !strings.Contains(string(st), ") Z ") {
			found = append(found, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return found
}

// homeIs reports whether the process pid runs with HOME=home, the home of
// one test's engine, which the processes it starts inherit (another test's
// engine, running at the same time on the machine, has another). A
// process whose environment cannot be read counts as the test's.
func homeIs(pid, home string) bool {
	env, err := os.ReadFile("/proc/" + pid + "/environ")
	return err != nil || bytes.Contains(env, []byte("HOME="+home+"\x00"))
}

// TestHostilePluginIsContained runs testdata/plugins/hostile — which tries
// every escape from the sandbox in its own process and through run_bash on
// a local environment — as root and as an unprivileged engine user, and
// asserts that each attempt failed, nothing of it survives the operation,
// its logs stayed bounded and the engine still works.
func TestHostilePluginIsContained(t *testing.T) {
	users := []struct {
		name         string
		unprivileged bool
	}{{"engine user " + strconv.Itoa(os.Geteuid()), false}}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("setpriv"); err == nil {
			users = append(users, struct {
				name         string
				unprivileged bool
			}{"engine user nobody", true})
		}
	}
	for _, u := range users {
		t.Run(u.name, func(t *testing.T) {
			got, e, data, _ := hostileRun(t, "sandboxed", u.unprivileged, "--max-processes", "64", "--max-memory", "128MiB", "--max-plugin-scratch", "32MiB")
			if !strings.Contains(e.out.String(), "Plugin isolation: user, mount, PID and network namespaces") {
				t.Errorf("serve does not say which isolation is active:\n%s", e.out)
			}
			if !strings.HasPrefix(got["workdir"], data+string(filepath.Separator)) {
				t.Fatalf("the plugin's working directory %q is not in the data directory %s: the file attempts prove nothing", got["workdir"], data)
			}
			for _, a := range []string{"env", "procenv", "secrets.key", "engine.db", "blobs", "other-plugin-logs", "write-data-dir", "network",
				"bash-env", "bash-procenv", "bash-secrets.key", "bash-engine.db", "bash-blobs", "bash-write-data-dir",
				"password-file", "bash-password-file", "hardlink-password", "user-file", "unix-socket",
				"ptrace-init", "sysctl", "sysrq", "mknod"} {
				if got[a] != "refused" {
					t.Errorf("%s: %q, want refused", a, got[a])
				}
			}
			for a, prefix := range map[string]string{"setuid": "refused", "setsid": "started", "bash-setsid": "refused (ran)", "fork": "refused after ",
				"alloc": "refused at ", "log": "300 MB written", "bash-fork": "refused", "bash-alloc": "refused",
				"bash-output": "The command printed more than"} {
				if !strings.HasPrefix(got[a], prefix) {
					t.Errorf("%s: %q, want %q...", a, got[a], prefix)
				}
			}
			var n int
			if _, err := fmt.Sscanf(got["fork"], "refused after %d", &n); err != nil || n > 64 {
				t.Errorf("fork: %q, want refused after at most 64", got["fork"])
			}
			// 100 run_bash calls at once: 16 run, the others are refused
			// saying why.
			var ran, refused int
			if _, err := fmt.Sscanf(got["bash-parallel"], "%d ran, %d refused", &ran, &refused); err != nil || ran > 16 || ran+refused != 100 ||
				!strings.Contains(got["bash-parallel"], "16 library calls of this plugin already run at once") {
				t.Errorf("bash-parallel: %q, want at most 16 ran, the others refused", got["bash-parallel"])
			}
			// Writing without end into its work directory stops at the
			// scratch size, with the disk full error, in memory: nothing
			// of it reached the data directory's disk.
			if _, err := fmt.Sscanf(got["scratch"], "refused at %d MiB", &n); err != nil || n > 32 || !strings.Contains(got["scratch"], "no space left on device") {
				t.Errorf("scratch: %q, want refused at 32 MiB at most, no space left on device", got["scratch"])
			}
			if ents, _ := os.ReadDir(got["workdir"]); len(ents) != 0 {
				t.Errorf("the plugin's writes reached the work directory on disk: %v", ents)
			}
			home := filepath.Join(filepath.Dir(data), "home")
			if left := survivors(home); len(left) > 0 {
				t.Errorf("processes outlived the operation: %v", left)
			}
			filepath.WalkDir(filepath.Dir(data), func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.HasPrefix(d.Name(), "planted-by-") {
					t.Errorf("the plugin wrote %s", p)
				}
				return nil
			})
			// 300 MB of log records and of standard error: every file is
			// capped, and the rotation keeps a bounded number.
			logs, _ := filepath.Glob(filepath.Join(data, "plugin-logs", "*", "*"))
			var total int64
			for _, p := range logs {
				st, err := os.Stat(p)
				if err != nil {
					continue
				}
				total += st.Size()
				if st.Size() > 10<<20+512<<10 {
					t.Errorf("%s is %d bytes, over the 10 MiB cap", p, st.Size())
				}
			}
			if total > 4*6*(10<<20+512<<10) || len(logs) > 4*6+1 {
				t.Errorf("%d plugin log files, %d bytes", len(logs), total)
			}
			if total < 40<<20 {
				t.Errorf("the plugin's logs hold %d bytes: the 300 MB did not reach them", total)
			}
			// The engine stays healthy: it answers, and the plugin runs
			// again (on a second environment, the cheap attempts only:
			// refused too).
			rec := &recorder{t: t, home: filepath.Join(filepath.Dir(data), "client"), env: []string{"DVP_PASSWORD=" + adminPassword}}
			if r := rec.run("", nil, "environment", "add", "control", "--local", "-e", e.url, "-u", "admin"); r.code != 0 ||
				!strings.Contains(r.stdout+r.stderr, `found repository "secrets.key=refused"`) {
				t.Errorf("a second discovery: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if r := rec.run("", nil, "environment", "list", "-e", e.url, "-u", "admin"); r.code != 0 || !strings.Contains(r.stdout, "sandboxed") {
				t.Errorf("list: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if left := survivors(home); len(left) > 0 {
				t.Errorf("processes outlived the second discovery: %v", left)
			}
			e.stop()
		})
	}
}

// TestHostilePluginWithoutSandbox is the control: with
// --insecure-no-sandbox the same plugin does reach the engine's secrets
// (so the contained run's refusals are the sandbox's doing), and every
// operation's job warns.
func TestHostilePluginWithoutSandbox(t *testing.T) {
	got, e, data, added := hostileRun(t, "control", false, "--insecure-no-sandbox")
	for _, a := range []string{"secrets.key", "engine.db", "blobs", "write-data-dir", "procenv", "bash-secrets.key", "bash-engine.db", "bash-write-data-dir",
		"password-file", "bash-password-file", "hardlink-password", "user-file", "unix-socket"} {
		if got[a] != "LEAKED" {
			t.Errorf("%s: %q, want LEAKED without a sandbox", a, got[a])
		}
	}
	if !strings.Contains(e.out.String(), "WITHOUT a sandbox") || !strings.Contains(e.out.String(), "Plugin isolation: none") {
		t.Errorf("no warning at start:\n%s", e.out)
	}
	if !strings.Contains(added.stdout+added.stderr, "discovery.repository() runs without a sandbox (--insecure-no-sandbox)") {
		t.Errorf("no warning in the job:\n%s\n%s", added.stdout, added.stderr)
	}
	// The escaped processes are not the engine's to keep: they end with
	// the engine's process group at the latest.
	e.stop()
	for _, p := range survivors(filepath.Join(filepath.Dir(data), "home")) {
		if pid, err := strconv.Atoi(strings.SplitN(p, ":", 2)[0]); err == nil {
			if proc, err := os.FindProcess(pid); err == nil {
				proc.Kill()
			}
		}
	}
}

func TestDataDirWritableByOthersIsRefused(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	os.Mkdir(data, 0o777)
	os.Chmod(data, 0o777)
	cmd := exec.Command(dvpBin, "engine", "serve", "--listen", "127.0.0.1:0", "--data-dir", data)
	cmd.Env = append(baseEnv(t), "DVP_ENGINE_ADMIN_PASSWORD="+adminPassword)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "can be written by other users") || !strings.Contains(string(out), "chmod 700") {
		t.Errorf("an engine on a world-writable data directory: %v\n%s", err, out)
	}
}

// TestGracefulStopEndsOperations: SIGTERM during a plugin operation (the
// hostile plugin's discovery, once its processes run) cancels the job and
// ends every process it started, instead of waiting for the operation.
func TestGracefulStopEndsOperations(t *testing.T) {
	root := t.TempDir()
	data, home := filepath.Join(root, "data"), filepath.Join(root, "home")
	os.MkdirAll(home, 0o755)
	e := startEngineAs(t, data, home, false)
	startHostileDiscovery(t, e, root, home)
	e.stop() // SIGTERM, and a clean exit expected
	if left := survivors(home); len(left) > 0 {
		t.Errorf("processes outlived the engine's graceful stop: %v", left)
	}
	// The engine starts again on the same data directory. The discovery's
	// job ended CANCELED, saying that the engine stopped (not FAILED as if
	// the plugin had failed).
	e2 := startEngineAs(t, data, home, false)
	code, b := e2.api(t).do("GET", "delphix/environment", "application/json", nil)
	if code != 200 {
		t.Errorf("environments after the restart: %d %s", code, b)
	}
	code, b = e2.api(t).do("GET", "delphix/job", "application/json", nil)
	var list struct {
		Result []struct {
			Reference  string `json:"reference"`
			ActionType string `json:"actionType"`
		} `json:"result"`
	}
	if code != 200 || json.Unmarshal(b, &list) != nil {
		t.Fatalf("jobs after the restart: %d %s", code, b)
	}
	found := false
	for _, j := range list.Result {
		if j.ActionType != "ENVIRONMENT_CREATE" {
			continue
		}
		found = true
		code, b := e2.api(t).do("GET", "delphix/job/"+j.Reference, "application/json", nil)
		var job struct {
			Result struct {
				JobState string `json:"jobState"`
				Events   []struct {
					Details string `json:"messageDetails"`
				} `json:"events"`
			} `json:"result"`
		}
		if code != 200 || json.Unmarshal(b, &job) != nil {
			t.Fatalf("job %s: %d %s", j.Reference, code, b)
		}
		ev := job.Result.Events
		if n := len(ev); job.Result.JobState != "CANCELED" || n == 0 || !strings.Contains(ev[n-1].Details, "canceled because the engine stopped") {
			t.Errorf("the discovery the graceful stop ended: %s %+v", job.Result.JobState, ev)
		}
	}
	if !found {
		t.Errorf("no environment job after the restart: %s", b)
	}
	e2.stop()
}

// startHostileDiscovery builds the hostile test plugin under root, uploads
// it to e and starts `dvp environment add --local`, whose discovery runs
// the plugin's processes that never end on their own; it returns once
// they run (the test stops the engine under them). The command's wait is
// a cleanup of the test, after the engine's kill.
func startHostileDiscovery(t *testing.T, e *engineProc, root, home string) {
	t.Helper()
	rec := &recorder{t: t, home: home, env: append([]string{"DVP_PASSWORD=" + adminPassword}, goCacheEnv(t)...)}
	project := filepath.Join(root, "plugin")
	if err := os.CopyFS(project, os.DirFS(filepath.Join("..", "..", "..", "testdata", "plugins", "hostile"))); err != nil {
		t.Fatal(err)
	}
	artifactPath := filepath.Join(root, "artifact.json")
	for _, args := range [][]string{
		{"build", "-c", filepath.Join(project, "plugin_config.yml"), "-a", artifactPath},
		{"upload", "-e", e.url, "-u", "admin", "-a", artifactPath, "--wait"},
	} {
		if r := rec.run("", nil, args...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	add := exec.Command(dvpBin, "environment", "add", "busy", "--local", "-e", e.url, "-u", "admin")
	add.Env = append(baseEnv(t), "HOME="+home, "DVP_PASSWORD="+adminPassword)
	if err := add.Start(); err != nil {
		t.Fatal(err)
	}
	// The command waits for the discovery's job, which only the engine's
	// stop ends: a test that failed before stopping it would wait here for
	// the operation's 30 minutes (TestHangupStopsGracefully did, 10 and 18
	// minutes, its engine still running). The engine is killed first.
	t.Cleanup(func() {
		e.kill()
		add.Process.Kill()
		add.Wait()
	})
	// The operation runs once its setsid child does.
	for i := 0; len(survivors(home)) == 0; i++ {
		if i > 3000 {
			t.Fatalf("the plugin's processes never started:\n%s", e.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
