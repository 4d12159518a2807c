package sandbox

import (
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestInheritedDescriptorsDoNotReachTheCommand: a descriptor the engine
// inherited without close-on-exec (dvp engine serve 3>file, a service
// manager's socket) stayed open in every plugin process and local
// command; only 0, 1 and 2 reach them now.
func TestInheritedDescriptorsDoNotReachTheCommand(t *testing.T) {
	s := newSandbox(t)
	l := newLayout(t)
	secret := filepath.Join(t.TempDir(), "secret")
	fd, err := syscall.Open(secret, syscall.O_CREAT|syscall.O_RDWR, 0o600) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	n := strconv.Itoa(fd)
	for _, c := range []struct {
		name string
		p    Policy
	}{{"plugin process", l.pluginPolicy()}, {"local command", Policy{Network: true}}} {
		r := run(t, s, c.p, l.work, nil, "/bin/sh", "-c", `if ls /proc/self/fd | grep -qx `+n+`; then echo open; else echo closed; fi`)
		if strings.TrimSpace(r.out) != "closed" {
			t.Errorf("%s: the engine's descriptor %s is %q in the sandbox", c.name, n, r.out)
		}
	}
}
