//go:build linux

package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFilesSystemOnly: a plugin process sees the system's programs and
// libraries and its own directories, nothing else of the host — so a hard
// link to a hidden secret, or any file of a user, is out of its reach by
// every path — and its work directory is a bounded scratch space that
// never reaches the host's disk.
func TestFilesSystemOnly(t *testing.T) {
	s := newSandbox(t)
	l := newLayout(t)
	secret := filepath.Join(l.outside, "admin-password")
	hardLink := filepath.Join(l.outside, "hard-link-to-password")
	if err := os.Link(secret, hardLink); err != nil {
		t.Fatal(err)
	}
	p := l.pluginPolicy()

	// The hole this closes: hidden by its path, the secret was still
	// readable through another hard link.
	if r := run(t, s, p, l.work, nil, "/bin/sh", "-c", "cat "+hardLink); r.code != 0 || !strings.Contains(r.out, "ADMINPW") {
		t.Logf("without SystemOnly the hard link is not readable (exit %d, %q)", r.code, r.out)
	}

	p.SystemOnly = true
	p.Expose = []Bind{{Path: self(t)}, {Path: l.work, Writable: true, ScratchBytes: 8 << 20}}
	for _, c := range []struct {
		script string
		ok     bool
	}{
		{"cat " + hardLink, false},
		{"cat " + filepath.Join(l.outside, "readable"), false},
		{"cat " + secret, false},
		{"cat " + filepath.Join(l.data, "secrets.key"), false},
		{"ls " + l.other, false},
		{"ls /root /home /var /srv /opt /run /sys 2>/dev/null | grep -q .", false},
		{"cat /etc/shadow", false},
		{"ls /etc/ssh", false},
		{"test -r /etc/passwd && test -x /bin/sh && echo x > /dev/null && head -c 4 /dev/urandom | wc -c", true},
		{"test \"$(pwd)\" = " + l.work + " && test \"$TMPDIR\" = " + l.work, true},
		{"test ! -e own.txt", true}, // a fresh scratch directory, not the host's
		{"head -c 4000000 /dev/zero > a && head -c 2000000 /dev/zero > b && wc -c a b", true},
		{"head -c 16000000 /dev/zero > big", false}, // over the 8 MiB scratch
		{"echo x > /tmp/planted", false},
		{"echo x > /usr/planted", false},
		{"umount " + l.work, false},
		{"tr '\\0' ' ' < /proc/1/cmdline | grep -q " + InitArg + " && test $(ls /proc | grep -c '^[0-9]') -lt 10", true},
	} {
		r := run(t, s, p, l.work, nil, "/bin/sh", "-c", c.script)
		if (r.code == 0) != c.ok || strings.Contains(r.out, "KEY") || strings.Contains(r.out, "OTHER") || strings.Contains(r.out, "ADMINPW") || strings.Contains(r.out, "fine") {
			t.Errorf("%s: exit %d (want success %v), output %q", c.script, r.code, c.ok, r.out)
		}
		if c.script == "head -c 16000000 /dev/zero > big" && !strings.Contains(r.out, "No space left") {
			t.Errorf("a write over the scratch size: %q, want No space left on device", r.out)
		}
	}
	// The exposed executable runs there, with its allow-listed environment.
	if r := run(t, s, p, l.work, Env(nil, l.work, "SANDBOX_HELPER=env"), self(t)); r.code != 0 || !strings.Contains(r.out, "TMPDIR="+l.work) {
		t.Errorf("the exposed executable: exit %d, %s", r.code, r.out)
	}
	// Nothing written in the scratch directory reached the host.
	ents, _ := os.ReadDir(l.work)
	for _, e := range ents {
		if e.Name() != "own.txt" {
			t.Errorf("%s reached the host's work directory", e.Name())
		}
	}
	for _, f := range []string{"/tmp/planted", "/usr/planted"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s was written", f)
		}
	}
}
