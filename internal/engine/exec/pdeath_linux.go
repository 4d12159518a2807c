package exec

import (
	osexec "os/exec"
	"syscall"
)

// dieWithEngine makes cmd (the engine's own rsync to an SSH host) die
// with the engine: a crash then cuts the copy off, its ssh connection
// closes, and the rsync on the host ends, instead of copying on with no
// engine to record it.
func dieWithEngine(cmd *osexec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
