//go:build !unix

package dvptest

import (
	"os"
	"syscall"
)

// engineProcAttr: no process groups or parent-death signal here.
func engineProcAttr(keep bool) *syscall.SysProcAttr { return nil }

// killGroup kills the engine's process.
func killGroup(p *os.Process) { _ = p.Kill() }
