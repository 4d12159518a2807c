//go:build unix

package upload

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// errnoName is the symbolic name of an errno (ENOENT), as Python's
// errno.errorcode gives it.
func errnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return e.Error()
}
