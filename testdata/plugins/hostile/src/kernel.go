package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// kernelAttempts are the escapes through the kernel's own interfaces
// (internal/engine/e2e sandbox_test.go): tracing the sandbox's init (its
// PID 1, which has no limits and holds the sandbox's mounts), opening a
// kernel setting or the SysRq trigger for writing (as root on the host,
// core_pattern runs a program as root; SysRq reboots the machine), making
// a device node, and a setuid program on a mount that honours it. Opening
// for writing is enough to know: nothing is written.
func kernelAttempts(r *report) {
	if err := syscall.PtraceAttach(1); err == nil {
		syscall.PtraceDetach(1)
		r.add("ptrace-init", "LEAKED")
	} else {
		r.add("ptrace-init", "refused")
	}
	for name, path := range map[string]string{"sysctl": "/proc/sys/kernel/core_pattern", "sysrq": "/proc/sysrq-trigger"} {
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Close()
			r.add(name, "LEAKED")
		} else {
			r.add(name, "refused")
		}
	}
	dev := filepath.Join(os.TempDir(), "mem")
	if wd, err := os.Getwd(); err == nil {
		dev = filepath.Join(wd, "mem")
	}
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o600, 1<<8|1); err == nil {
		os.Remove(dev)
		r.add("mknod", "LEAKED")
	} else {
		r.add("mknod", "refused")
	}
	r.add("setuid", setuidHonoured())
}

// setuidHonoured says whether a setuid program of the system's directories
// is on a mount without nosuid.
func setuidHonoured() string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "refused"
	}
	for _, dir := range []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			fi, err := e.Info()
			if err != nil || fi.Mode()&os.ModeSetuid == 0 {
				continue
			}
			// The mount point of dir: the longest mount point it is under.
			best, opts := "", ""
			for _, line := range strings.Split(string(b), "\n") {
				f := strings.Fields(line)
				if len(f) < 6 {
					continue
				}
				if mp := f[4]; (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) >= len(best) {
					best, opts = mp, f[5]
				}
			}
			if !strings.Contains(","+opts+",", ",nosuid,") {
				return "LEAKED (" + filepath.Join(dir, e.Name()) + " on " + best + " " + opts + ")"
			}
			return "refused"
		}
	}
	return "refused (no setuid program)"
}
