package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestGroupBoundsSandboxesTogether: the sandboxes of one Group (a plugin
// process and the commands it runs) share its process limit. A sandbox
// holding 30 processes leaves a second one of the group at most the 34
// others of the 64; each had 64 of its own, so a plugin with its 16 library calls
// at once could hold 17 x --max-processes. The pids cgroup counts them
// together, so a root engine only (the kernel applies RLIMIT_NPROC per
// user namespace, one per sandbox).
func TestGroupBoundsSandboxesTogether(t *testing.T) {
	s := newSandbox(t)
	if s.cg == nil {
		t.Skip("no cgroups: the engine is not root")
	}
	l := newLayout(t)
	limits := Limits{Processes: 64, MemoryBytes: 1 << 30}
	g, err := s.NewGroup(limits)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	p := Policy{Network: true, Limits: limits, Group: g}

	holder := exec.Command("/bin/sh", "-c", `i=0; while [ $i -lt 30 ]; do sleep 600 & i=$((i+1)); done; echo started; wait`)
	holder.Dir, holder.Env = l.work, Env(nil, l.work)
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cleanup, err := s.Wrap(holder, p)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Wait()
	defer holder.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "started\n" {
		t.Fatalf("the holder did not start its 30 processes: %q", line)
	}

	r := run(t, s, p, l.work, Env(nil, l.work, "SANDBOX_HELPER=fork"), self(t))
	var n int
	if _, err := fmt.Sscanf(r.out, "refused after %d", &n); err != nil || n > 34 {
		t.Errorf("a second sandbox of the group started %q while the first held 30 of the group's 64 processes", strings.TrimSpace(r.out))
	}
	// A sandbox outside the group has its own 64.
	r = run(t, s, Policy{Network: true, Limits: limits}, l.work, Env(nil, l.work, "SANDBOX_HELPER=fork"), self(t))
	if _, err := fmt.Sscanf(r.out, "refused after %d", &n); err != nil || n < 40 || n > 64 {
		t.Errorf("a sandbox outside the group: %q", strings.TrimSpace(r.out))
	}
	g.Close()
	for _, d := range g.paths {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("the group %s is still there after Close (%v)", d, err)
		}
	}
}
