//go:build unix && !linux

package dvptest

import (
	"os"
	"syscall"
)

// engineProcAttr puts the private engine in a process group of its own.
// These systems have no parent-death signal: an engine whose dvp test was
// killed keeps running until stopped.
func engineProcAttr(keep bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the engine's whole process group.
func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
