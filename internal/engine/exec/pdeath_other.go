//go:build !linux

package exec

import osexec "os/exec"

// dieWithEngine does nothing where the kernel has no parent-death signal.
func dieWithEngine(*osexec.Cmd) {}
