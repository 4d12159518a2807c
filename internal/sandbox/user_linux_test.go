//go:build linux

package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A root engine runs a command as another OS user: its IDs and only its
// groups (not root's), in the sandbox's view (the hidden directory stays
// hidden; the exposed one is writable when the user may write it).
func TestCommandAsAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	s := newSandbox(t)
	base := t.TempDir()
	os.Chmod(base, 0o755)
	// t.TempDir's own parent is private (0700): the sandbox hides it, so
	// that the exposed directory is reachable all the same.
	hidden := filepath.Join(base, "data")
	os.Mkdir(hidden, 0o700)
	os.WriteFile(filepath.Join(hidden, "secret"), []byte("s"), 0o644)
	work := filepath.Join(hidden, "storage")
	os.Mkdir(work, 0o755)
	os.Chown(work, 65534, 65534)
	u := &User{Name: "nobody", UID: 65534, GID: 65534, Groups: []int{65534}, Home: "/"}
	p := Policy{Hide: []string{hidden}, Expose: []Bind{{Path: work, Writable: true}}, Network: true, Limits: DefaultLimits(), User: u}
	res := run(t, s, p, "/", UserEnv(Env(nil, ""), u), "/bin/sh", "-c",
		`id -u; id -g; id -G; echo "HOME=$HOME USER=$USER"; touch "$0/made" && echo wrote; cat "$1/secret" 2>&1 || echo hidden; touch /root/x 2>/dev/null || echo "no root"`, work, hidden)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.out)
	}
	lines := strings.Split(strings.TrimSpace(res.out), "\n")
	want := []string{"65534", "65534", "65534", "HOME=/ USER=nobody", "wrote"}
	for i, w := range want {
		if i >= len(lines) || lines[i] != w {
			t.Fatalf("output %q; want %q first", lines, want)
		}
	}
	if !strings.Contains(res.out, "hidden") || strings.Contains(res.out, "\ns\n") || !strings.Contains(res.out, "no root") {
		t.Errorf("output %q", res.out)
	}
	fi, err := os.Stat(filepath.Join(work, "made"))
	if err != nil || owner(fi) != 65534 {
		t.Errorf("the file made is not nobody's: %v", err)
	}
	// Without the sandbox too (--insecure-no-sandbox): the same IDs.
	var none *Sandbox
	res = run(t, none, Policy{User: u}, "/", UserEnv(Env(nil, ""), u), "/bin/sh", "-c", "id -u; id -G")
	if strings.TrimSpace(res.out) != "65534\n65534" {
		t.Errorf("unsandboxed: %q", res.out)
	}
}

func owner(fi os.FileInfo) int { return int(fi.Sys().(*syscall.Stat_t).Uid) }
