//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
)

// buildSlowPlugin builds testdata/plugins/slow (linux/amd64).
func buildSlowPlugin(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "slow")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./testdata/plugins/slow")
	cmd.Dir = filepath.Join("..", "..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the slow plugin: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bgDvp is a dvp command running in the background whose stderr is read
// line by line.
type bgDvp struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	lines  []string
	added  chan struct{} // a line was read
	done   chan struct{} // stderr is closed
}

func startBgDvp(t *testing.T, args ...string) *bgDvp {
	t.Helper()
	b := &bgDvp{added: make(chan struct{}, 1), done: make(chan struct{})}
	b.cmd = exec.Command(dvpBin, args...)
	b.cmd.Env = append(baseEnv(t), "DVP_PASSWORD="+adminPassword)
	b.cmd.Stdout = &b.stdout
	errp, err := b.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(b.done)
		sc := bufio.NewScanner(errp)
		for sc.Scan() {
			b.mu.Lock()
			b.lines = append(b.lines, sc.Text())
			b.mu.Unlock()
			select {
			case b.added <- struct{}{}:
			default:
			}
		}
		io.Copy(io.Discard, errp)
	}()
	t.Cleanup(func() { b.cmd.Process.Kill(); b.cmd.Wait() })
	return b
}

func (b *bgDvp) stderr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// waitLine waits until a line of stderr matches re and returns its
// submatches; it fails the test if stderr ends first (or, as a safety net
// against a hang, after a minute).
func (b *bgDvp) waitLine(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	match := func() []string {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, l := range b.lines {
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		}
		return nil
	}
	limit := time.After(time.Minute)
	for {
		if m := match(); m != nil {
			return m
		}
		select {
		case <-b.added:
		case <-b.done:
			if m := match(); m != nil {
				return m
			}
			t.Fatalf("dvp %s ended without printing %q:\n%s", strings.Join(b.cmd.Args[1:], " "), re, b.stderr())
		case <-limit:
			t.Fatalf("dvp %s never printed %q:\n%s", strings.Join(b.cmd.Args[1:], " "), re, b.stderr())
		}
	}
}

// exit waits for the command and returns its exit code.
func (b *bgDvp) exit(t *testing.T) int {
	t.Helper()
	<-b.done
	err := b.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// slowWaiting counts the processes named slow-wait:SRC.
func slowWaiting(src string) int {
	n := 0
	ds, _ := os.ReadDir("/proc")
	for _, d := range ds {
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && strings.HasPrefix(string(b), "slow-wait:"+src+"\x00") {
			n++
		}
	}
	return n
}

// Job control through the CLI: a sync interrupted with Ctrl-C names its
// job and the commands to follow or cancel it; it goes on running,
// streaming its command's output and heartbeats; a second sync says it is
// queued; dvp job cancel ends both (CANCELED, no process left), the
// followers exit 1 with the cancellation, and the dSource syncs again.
func TestJobControlThroughTheCLI(t *testing.T) {
	e := startEngine(t, t.TempDir(), "--job-heartbeat", "200ms")
	defer e.stop()
	if r := upload(t, e, writeArtifact(t, enginetest.SlowPlugin(buildSlowPlugin(t)))); r.code != 0 {
		t.Fatalf("upload: %d\n%s", r.code, r.stderr)
	}
	conn := []string{"-e", e.url, "-u", "admin"}
	run := func(args ...string) result {
		t.Helper()
		return dvp(t, nil, append(args, conn...)...)
	}
	if r := run("environment", "add", "here", "--local"); r.code != 0 {
		t.Fatalf("environment add: %d\n%s", r.code, r.stderr)
	}
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	if r := run("source-config", "add", "data", "--environment", "here", "--repository", "slow", "--params", fmt.Sprintf(`{"path": %q}`, src)); r.code != 0 {
		t.Fatalf("source-config add: %d\n%s", r.code, r.stderr)
	}
	mnt := filepath.Join(t.TempDir(), "mnt")
	if r := run("dsource", "link", "ds", "--source-config", "data", "--params", fmt.Sprintf(`{"mountLocation": %q}`, mnt)); r.code != 0 {
		t.Fatalf("link: %d\n%s", r.code, r.stderr)
	}

	// A sync that hangs: its job first, then its command's output and
	// heartbeats as they come; Ctrl-C leaves it running and says how to
	// follow or cancel it.
	os.WriteFile(filepath.Join(src, "lines"), []byte("3"), 0o644)
	os.WriteFile(filepath.Join(src, "hang"), nil, 0o644)
	sync1 := startBgDvp(t, append([]string{"dsource", "sync", "ds"}, conn...)...)
	job := sync1.waitLine(t, `^Started job (JOB-\d+): 'dvp job wait JOB-\d+' follows it, 'dvp job cancel JOB-\d+' cancels it\.$`)[1]
	if first := strings.SplitN(sync1.stderr(), "\n", 2)[0]; !strings.HasPrefix(first, "Started job "+job) {
		t.Errorf("the first line is %q, not the job", first)
	}
	sync1.waitLine(t, `run_bash on here: copying part 3$`)
	sync1.waitLine(t, `Still running: Sync dSource "ds" \(\d+s elapsed\)\.$`)
	sync1.cmd.Process.Signal(syscall.SIGINT)
	if code := sync1.exit(t); code != 130 {
		t.Errorf("exit %d after SIGINT, want 130", code)
	}
	wantLine := fmt.Sprintf("Interrupted (SIGINT): job %s goes on running on the engine; follow it with 'dvp job wait %s' or cancel it with 'dvp job cancel %s'.", job, job, job)
	if lines := strings.Split(sync1.stderr(), "\n"); lines[len(lines)-1] != wantLine || strings.Contains(sync1.stderr(), "context canceled") || sync1.stdout.Len() != 0 {
		t.Errorf("after SIGINT, stdout %q, stderr:\n%s\nwant the last line %q", sync1.stdout.String(), sync1.stderr(), wantLine)
	}
	if r := run("job", "list", "--running"); r.code != 0 || !regexp.MustCompile(`(?m)^`+job+`\tRUNNING\tSync dSource "ds"\tds\t`).MatchString(r.stdout) {
		t.Errorf("job list --running: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A second sync is queued behind it and says so.
	sync2 := startBgDvp(t, append([]string{"dsource", "sync", "ds"}, conn...)...)
	job2 := sync2.waitLine(t, `^Started job (JOB-\d+):`)[1]
	sync2.waitLine(t, regexp.QuoteMeta(fmt.Sprintf(`Queued behind %s (Sync dSource "ds"): this job starts when it ends.`, job)))
	if r := run("job", "list", "--running", "--object", "ds"); !strings.Contains(r.stdout, job2+"\tQUEUED\t") {
		t.Errorf("the queued job in job list:\n%s", r.stdout)
	}

	// dvp job wait follows the first again; canceling both ends the
	// followers with the cancellation (exit 1).
	wait1 := startBgDvp(t, append([]string{"job", "wait", job}, conn...)...)
	wait1.waitLine(t, `run_bash on here: copying part 3$`)
	if r := run("job", "cancel", job2); r.code != 0 || r.stdout != "CANCELED\n" {
		t.Errorf("job cancel %s: %d %q\n%s", job2, r.code, r.stdout, r.stderr)
	}
	if code := sync2.exit(t); code != 1 || !strings.Contains(sync2.stderr(), "canceled by admin. It was queued and had not started: nothing changed.") {
		t.Errorf("the queued sync: exit %d\n%s", code, sync2.stderr())
	}
	if r := run("job", "cancel", job); r.code != 0 || r.stdout != "CANCELED\n" || !strings.Contains(r.stderr, "No snapshot was taken") {
		t.Errorf("job cancel %s: %d %q\n%s", job, r.code, r.stdout, r.stderr)
	} else {
		t.Logf("dvp job cancel of a running sync, until CANCELED: %v", r.elapsed)
	}
	if code := wait1.exit(t); code != 1 || !strings.Contains(wait1.stderr(), `Sync dSource "ds": canceled by admin.`) || wait1.stdout.Len() != 0 {
		t.Errorf("job wait of the canceled job: exit %d, stdout %q\n%s", code, wait1.stdout.String(), wait1.stderr())
	}
	if n := slowWaiting(src); n != 0 {
		t.Errorf("%d processes of the canceled job remain", n)
	}
	if r := run("job", "show", job); r.code != 0 || !strings.Contains(r.stdout, "State:    CANCELED\n") || !strings.Contains(r.stdout, "Message:  Sync dSource \"ds\": canceled by admin.") {
		t.Errorf("job show: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run("job", "cancel", job); r.code != 1 || !strings.Contains(r.stderr, "is not running: it is CANCELED") {
		t.Errorf("canceling it again: %d\n%s", r.code, r.stderr)
	}

	// The dSource is usable: a sync completes and prints its snapshot.
	os.Remove(filepath.Join(src, "hang"))
	r := run("dsource", "sync", "ds")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "APPDATA_SNAPSHOT-") {
		t.Fatalf("sync after the cancel: %d %q\n%s", r.code, r.stdout, r.stderr)
	}
	if r := run("snapshot", "list", "ds", "-o", "json"); strings.Count(r.stdout, `"reference": "APPDATA_SNAPSHOT-`) != 2 {
		t.Errorf("snapshots after the cancel (want the link's and the last sync's):\n%s", r.stdout)
	}
}
