//go:build unix

package build

import (
	"os/exec"
	"syscall"
	"time"
)

// interruptGroup makes cmd (from exec.CommandContext) run in a process
// group of its own that is sent SIGINT when the context ends, as Ctrl-C
// would: go build then stops the compilers and linker it started and
// removes its work directory (SIGKILL to go alone would leave both
// behind). After 10 s the go command is killed.
func interruptGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	}
	cmd.WaitDelay = 10 * time.Second
}
