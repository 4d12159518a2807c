//go:build !linux && unix

package sandbox

import (
	"os/exec"
	"syscall"
)

// ProcessGroup starts cmd in its own process group and makes its
// cancellation kill the whole group.
func ProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if cmd.Cancel == nil {
		return
	}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
