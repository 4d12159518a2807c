package dvptest

import (
	"os"
	"syscall"
)

// engineProcAttr puts the private engine in a process group of its own and,
// unless keep, has the kernel send it SIGTERM if dvp test dies without
// stopping it (a second Ctrl-C ends dvp at once, a kill).
func engineProcAttr(keep bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if !keep {
		a.Pdeathsig = syscall.SIGTERM
	}
	return a
}

// killGroup kills the engine's whole process group.
func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
