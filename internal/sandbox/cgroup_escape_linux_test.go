package sandbox

import (
	"strings"
	"testing"
)

// TestLocalCommandStaysInItsCgroup: a root engine's local command runs
// as root (in a nested user namespace, but host root to the files it
// sees), and the host's /sys/fs/cgroup was in its view, writable: writing
// its PID to the root group's cgroup.procs moved it out of its pids and
// memory groups, and --max-processes and --max-memory no longer held it
// or what it started (it could as well raise its own group's pids.max).
// The cgroup file systems are read-only in the sandbox: the move and the
// raise fail, and the command stays in its groups.
func TestLocalCommandStaysInItsCgroup(t *testing.T) {
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
	// A local command: the host's files, the data directory hidden.
	p := Policy{Network: true, Limits: limits, Group: g, Hide: []string{l.data, l.dotdvp}}
	script := `for c in pids memory; do
  f=/sys/fs/cgroup/$c/cgroup.procs
  if echo 0 > "$f" 2>/dev/null; then echo "moved $c"; else echo "refused $c"; fi
done
own=/sys/fs/cgroup/pids$(grep :pids: /proc/self/cgroup | cut -d: -f3)
if echo max > "$own/pids.max" 2>/dev/null; then echo "raised its limit"; fi
cat /proc/self/cgroup`
	r := run(t, s, p, l.outside, nil, "/bin/sh", "-c", script)
	if strings.Contains(r.out, "moved") || strings.Contains(r.out, "raised") {
		t.Errorf("the local command left its cgroup:\n%s", r.out)
	}
	for _, ctl := range []string{"pids", "memory"} {
		if !strings.Contains(r.out, "refused "+ctl) {
			t.Errorf("no refusal for %s:\n%s", ctl, r.out)
		}
		found := false
		for _, line := range strings.Split(r.out, "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) == 3 && parts[1] == ctl {
				found = true
				if !strings.Contains(parts[2], "/dvp-sandbox/") {
					t.Errorf("the command's %s group is %s, not its sandbox's", ctl, parts[2])
				}
			}
		}
		if !found {
			t.Errorf("no %s line in /proc/self/cgroup:\n%s", ctl, r.out)
		}
	}
	// Reading its limits still works (a JVM sizes itself from them).
	r = run(t, s, p, l.outside, nil, "/bin/sh", "-c", `cat /sys/fs/cgroup/pids$(grep :pids: /proc/self/cgroup | cut -d: -f3)/pids.max`)
	if r.code != 0 || strings.TrimSpace(r.out) != "64" {
		t.Errorf("reading its own group's pids.max: %d %q, want 64", r.code, r.out)
	}
}
