//go:build !unix

package pluginhost

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}

func signalNumber(ee *exec.ExitError) int { return 0 }
