//go:build !unix

package pluginhost

import "os/exec"

func signalNumber(ee *exec.ExitError) int { return 0 }
