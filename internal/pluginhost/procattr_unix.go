//go:build unix

package pluginhost

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts cmd in its own process group and makes its
// cancellation kill the whole group (the plugin and whatever it started).
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// signalNumber returns the signal that killed the process, or 0.
func signalNumber(ee *exec.ExitError) int {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return int(ws.Signal())
	}
	return 0
}
