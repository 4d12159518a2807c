//go:build !unix

package upload

import "syscall"

// errnoName is the error's text where errno names are not known.
func errnoName(e syscall.Errno) string { return e.Error() }
