//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the sandboxed program: with SANDBOX_HELPER set
// (Env passes it through as an extra variable) TestMain runs one of the
// helpers below instead of the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("SANDBOX_HELPER"); mode != "" {
		os.Exit(helper(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func helper(mode string, args []string) int {
	switch mode {
	case "connect":
		c, err := net.DialTimeout("tcp", args[0], 5*time.Second)
		if err != nil {
			fmt.Println("connect failed:", err)
			return 1
		}
		c.Close()
		fmt.Println("connected")
		return 0
	case "fork":
		// Start children that wait on a pipe until the kernel refuses one.
		r, w, _ := os.Pipe()
		defer w.Close()
		n := 0
		for ; n < 100000; n++ {
			cmd := exec.Command("/bin/sh", "-c", "read x")
			cmd.Stdin = r
			if err := cmd.Start(); err != nil {
				fmt.Printf("refused after %d: %v\n", n, err)
				return 0
			}
		}
		fmt.Printf("never refused (%d)\n", n)
		return 1
	case "alloc":
		var keep [][]byte
		for mib := 64; ; mib += 64 {
			b := make([]byte, 64<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			keep = append(keep, b)
			fmt.Printf("allocated %d MiB (%d chunks)\n", mib, len(keep))
			if mib >= 16<<10 {
				return 0
			}
		}
	case "files":
		n := 0
		for ; n < 1000000; n++ {
			if _, err := os.Open("/dev/null"); err != nil {
				fmt.Printf("refused after %d: %v\n", n, err)
				return 0
			}
		}
		return 1
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
		return 0
	case "parent":
		// Start a sandboxed sleep, say so, and wait to be killed.
		s, err := New()
		if err != nil {
			fmt.Println(err)
			return 1
		}
		cmd := exec.Command("/bin/sh", "-c", "sleep "+args[0])
		cmd.Env = Env(nil, "")
		if _, err := s.Wrap(cmd, Policy{Network: true}); err != nil {
			fmt.Println(err)
			return 1
		}
		if err := cmd.Start(); err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("started")
		cmd.Wait()
		return 0
	}
	return 2
}

func newSandbox(t *testing.T) *Sandbox {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

type result struct {
	out  string
	code int
}

// run runs name args in the sandbox of p, with dir as working directory.
func run(t *testing.T, s *Sandbox, p Policy, dir string, env []string, name string, args ...string) result {
	t.Helper()
	if env == nil {
		env = Env(nil, dir)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cleanup, err := s.Wrap(cmd, p)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), code}
}

func self(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// layout is a fake engine: a data directory with a secret, a plugin's work
// directory inside it, another plugin's files, and a ~/.dvp.
type layout struct {
	data, work, other, dotdvp, outside string
}

func newLayout(t *testing.T) layout {
	root := t.TempDir()
	os.Chmod(root, 0o755)
	l := layout{
		data:    filepath.Join(root, "data"),
		dotdvp:  filepath.Join(root, "home", ".dvp"),
		outside: filepath.Join(root, "outside"),
	}
	l.work = filepath.Join(l.data, "plugins", "p1", "logs")
	l.other = filepath.Join(l.data, "plugins", "p2", "logs")
	for _, d := range []string{l.work, l.other, filepath.Join(l.dotdvp, "logs"), l.outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, body := range map[string]string{
		filepath.Join(l.data, "secrets.key"):         "KEY",
		filepath.Join(l.other, "debug.log"):          "OTHER",
		filepath.Join(l.dotdvp, "logs", "debug.log"): "DEBUG",
		filepath.Join(l.work, "own.txt"):             "OWN",
		filepath.Join(l.outside, "admin-password"):   "ADMINPW",
		filepath.Join(l.outside, "readable"):         "fine",
	} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(l.outside, "admin-password"), filepath.Join(l.outside, "link-to-password")); err != nil {
		t.Fatal(err)
	}
	return l
}

// pluginPolicy hides the engine's directories and its secret files (an
// admin password file outside them).
func (l layout) pluginPolicy() Policy {
	return Policy{Hide: []string{l.data, l.dotdvp, filepath.Join(l.outside, "admin-password")}, Expose: []Bind{{Path: l.work, Writable: true}}, ReadOnly: true, Limits: DefaultLimits()}
}

func TestEnvAllowList(t *testing.T) {
	base := []string{"PATH=/bin", "HOME=/h", "LANG=C", "LC_ALL=C", "TZ=UTC", "DVP_ENGINE_ADMIN_PASSWORD=pw",
		"AWS_SECRET_ACCESS_KEY=k", "SSH_AUTH_SOCK=/s", "TMPDIR=/tmp", "DVP_X=1"}
	got := strings.Join(Env(base, "/work", "A=1"), " ")
	if want := "PATH=/bin HOME=/h LANG=C LC_ALL=C TZ=UTC TMPDIR=/work A=1"; got != want {
		t.Errorf("Env = %q, want %q", got, want)
	}
	got = strings.Join(Env(base, ""), " ")
	if want := "PATH=/bin HOME=/h LANG=C LC_ALL=C TZ=UTC TMPDIR=/tmp"; got != want {
		t.Errorf("Env = %q, want %q", got, want)
	}
}

func TestEnvironmentInSandbox(t *testing.T) {
	s := newSandbox(t)
	l := newLayout(t)
	t.Setenv("DVP_ENGINE_ADMIN_PASSWORD", "hunter2")
	r := run(t, s, l.pluginPolicy(), l.work, Env(nil, l.work, "SANDBOX_HELPER=env"), self(t))
	if r.code != 0 || strings.Contains(r.out, "hunter2") || strings.Contains(r.out, "DVP_") || !strings.Contains(r.out, "TMPDIR="+l.work) {
		t.Errorf("exit %d, environment:\n%s", r.code, r.out)
	}
}

func TestFilesHidden(t *testing.T) {
	s := newSandbox(t)
	l := newLayout(t)
	for _, c := range []struct {
		script string
		ok     bool
	}{
		{"cat own.txt", true},
		{"echo new > new.txt && cat new.txt", true},
		{"cat " + filepath.Join(l.data, "secrets.key"), false},
		{"ls " + l.other, false},
		{"cat " + filepath.Join(l.dotdvp, "logs", "debug.log"), false},
		{"echo x > " + filepath.Join(l.data, "planted"), false},
		{"echo x > " + filepath.Join(l.outside, "planted"), false},
		{"echo x > /tmp/dvp-sandbox-planted-" + strconv.Itoa(os.Getpid()), false},
		{"umount " + l.data + " && cat " + filepath.Join(l.data, "secrets.key"), false},
		{"cat /proc/1/environ | tr '\\0' '\\n' | grep -c DVP_ENGINE", false},
		{"cat " + filepath.Join(l.outside, "admin-password"), false},
		{"cat " + filepath.Join(l.outside, "link-to-password"), false},
		{"umount " + filepath.Join(l.outside, "admin-password") + " && cat " + filepath.Join(l.outside, "admin-password"), false},
		{"cat " + filepath.Join(l.outside, "readable"), true},
		{"tr '\\0' ' ' < /proc/1/cmdline | grep -q " + InitArg + " && test $(ls /proc | grep -c '^[0-9]') -lt 10", true}, // the sandbox's own processes only
	} {
		r := run(t, s, l.pluginPolicy(), l.work, nil, "/bin/sh", "-c", c.script)
		if (r.code == 0) != c.ok || strings.Contains(r.out, "KEY") || strings.Contains(r.out, "OTHER") || strings.Contains(r.out, "DEBUG") || strings.Contains(r.out, "ADMINPW") {
			t.Errorf("%s: exit %d (want success %v), output %q", c.script, r.code, c.ok, r.out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(l.work, "new.txt")); err != nil || string(b) != "new\n" {
		t.Errorf("the work directory's file outside: %q, %v", b, err)
	}
	for _, p := range []string{filepath.Join(l.data, "planted"), filepath.Join(l.outside, "planted")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written", p)
		}
	}
}

func TestLocalCommandKeepsFilesAndNetwork(t *testing.T) {
	s := newSandbox(t)
	l := newLayout(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	p := Policy{Hide: []string{l.data, l.dotdvp}, Network: true, Limits: DefaultLimits()}
	r := run(t, s, p, l.outside, Env(nil, "", "SANDBOX_HELPER=connect"), self(t), ln.Addr().String())
	if r.code != 0 || !strings.Contains(r.out, "connected") {
		t.Errorf("a local command cannot connect: exit %d, %s", r.code, r.out)
	}
	r = run(t, s, p, l.outside, nil, "/bin/sh", "-c", "echo x > planted && cat "+filepath.Join(l.data, "secrets.key"))
	if r.code == 0 || strings.Contains(r.out, "KEY") {
		t.Errorf("a local command reads the data directory: exit %d, %s", r.code, r.out)
	}
	if _, err := os.Stat(filepath.Join(l.outside, "planted")); err != nil {
		t.Errorf("a local command cannot write outside the data directory: %v", err)
	}
	// A plugin process has no network.
	r = run(t, s, l.pluginPolicy(), l.work, Env(nil, l.work, "SANDBOX_HELPER=connect"), self(t), ln.Addr().String())
	if r.code == 0 || !strings.Contains(r.out, "connect failed") {
		t.Errorf("a plugin process connects: exit %d, %s", r.code, r.out)
	}
}

// marker is a sleep duration that names this test's processes.
func marker() string { return fmt.Sprintf("%d.%d", 100000+os.Getpid(), time.Now().UnixNano()%1000000) }

// alive lists the processes whose command line contains m.
func alive(m string) []string {
	var found []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(m)) && !bytes.Contains(b, []byte("SANDBOX_HELPER")) {
			if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil && !strings.Contains(string(st), ") Z ") {
				found = append(found, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
			}
		}
	}
	return found
}

func TestEscapedProcessesDieWithTheCommand(t *testing.T) {
	s := newSandbox(t)
	l := newLayout(t)
	m := marker()
	script := fmt.Sprintf(`setsid sh -c 'trap "" TERM HUP INT; (sleep %s &) ; sleep %s' </dev/null >/dev/null 2>&1 &
(sleep %s &) ; echo started`, m, m, m)
	for _, p := range []Policy{l.pluginPolicy(), {Network: true}} {
		r := run(t, s, p, l.work, nil, "/bin/sh", "-c", script)
		if r.code != 0 || !strings.Contains(r.out, "started") {
			t.Fatalf("exit %d: %s", r.code, r.out)
		}
		if left := alive(m); len(left) > 0 {
			t.Errorf("processes outlived the command: %v", left)
		}
	}
}

func TestCancelKillsEverything(t *testing.T) {
	s := newSandbox(t)
	m := marker()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", fmt.Sprintf(`setsid sh -c 'trap "" TERM HUP INT; sleep %s' & echo started; sleep %s`, m, m))
	cmd.Env = Env(nil, "")
	out, _ := cmd.StdoutPipe()
	cleanup, err := s.Wrap(cmd, Policy{Network: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	io.ReadFull(out, buf)
	cancel()
	cmd.Wait()
	if left := alive(m); len(left) > 0 {
		t.Errorf("processes outlived the cancellation: %v", left)
	}
}

func TestEngineDeathKillsEverything(t *testing.T) {
	m := marker()
	cmd := exec.Command(self(t), m)
	cmd.Env = append(os.Environ(), "SANDBOX_HELPER=parent")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 7)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "started" {
		cmd.Process.Kill()
		t.Fatalf("helper: %q %v", line, err)
	}
	if len(alive(m)) == 0 {
		t.Fatal("the sandboxed sleep is not running")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// The kernel kills the namespace asynchronously after the parent's
	// death: poll a bounded number of times.
	var left []string
	for range 200 {
		if left = alive(m); len(left) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("processes outlived kill -9 of their engine: %v", left)
}

func TestLimits(t *testing.T) {
	s := newSandbox(t)
	l := newLayout(t)
	p := l.pluginPolicy()
	p.Limits = Limits{MemoryBytes: 256 << 20, Processes: 64, OpenFiles: 100, CPUSeconds: 60}
	env := func(mode string) []string { return Env(nil, l.work, "SANDBOX_HELPER="+mode) }

	r := run(t, s, p, l.work, env("fork"), self(t))
	var n int
	if _, err := fmt.Sscanf(r.out, "refused after %d", &n); err != nil || n > 64 {
		t.Errorf("fork bomb: exit %d, %q", r.code, r.out)
	}
	r = run(t, s, p, l.work, env("files"), self(t))
	if _, err := fmt.Sscanf(r.out, "refused after %d", &n); err != nil || n > 100 {
		t.Errorf("open files: exit %d, %q", r.code, r.out)
	}
	r = run(t, s, p, l.work, env("alloc"), self(t))
	last := 0
	for _, line := range strings.Split(r.out, "\n") {
		fmt.Sscanf(line, "allocated %d MiB", &last)
	}
	if r.code == 0 || last >= 256 || !strings.Contains(r.out, "out of memory") {
		t.Errorf("allocation: exit %d, last %d MiB, output tail %q", r.code, last, tail(r.out))
	}
	r = run(t, s, Policy{Network: true, Limits: Limits{CPUSeconds: 1}}, l.work, nil, "/bin/sh", "-c", "while :; do :; done")
	if r.code != 128+int(syscall.SIGXCPU) && r.code != 128+int(syscall.SIGKILL) {
		t.Errorf("CPU time: exit %d, %q", r.code, r.out)
	}
}

func tail(s string) string {
	if len(s) > 300 {
		return s[len(s)-300:]
	}
	return s
}

// TestUnprivileged runs this package's tests again as nobody when the tests
// run as root: the sandbox needs no privilege.
func TestUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("already unprivileged")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv is not installed")
	}
	dir, err := os.MkdirTemp("", "sandbox-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "sandbox.test")
	b, err := os.ReadFile(self(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-test.count=1", "-test.v", "-test.run=^Test(Env|Files|Local|Escaped|Cancel|Engine|Limits|Missing)")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent", "TMPDIR=/tmp"}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("PASS")) {
		t.Errorf("as nobody: %v\n%s", err, out)
	}
}

// A path to expose that does not exist (a container's storage before its
// first sync) is skipped.
func TestMissingExposedPathIsSkipped(t *testing.T) {
	s := newSandbox(t)
	l := newLayout(t)
	p := l.pluginPolicy()
	p.Expose = append(p.Expose, Bind{Path: filepath.Join(l.data, "storage", "missing"), Writable: true})
	if r := run(t, s, p, l.work, nil, "/bin/sh", "-c", "echo ok > made && cat made"); r.code != 0 || r.out != "ok\n" {
		t.Errorf("exit %d: %s", r.code, r.out)
	}
}
