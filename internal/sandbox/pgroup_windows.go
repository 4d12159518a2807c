//go:build windows

package sandbox

import "os/exec"

// ProcessGroup does nothing on Windows.
func ProcessGroup(cmd *exec.Cmd) {}
