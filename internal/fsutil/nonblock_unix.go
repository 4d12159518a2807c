//go:build unix

package fsutil

import "syscall"

// openNonblock makes the open of a FIFO return at once (ReadRegular then
// refuses it) instead of waiting for a writer; a regular file ignores it.
const openNonblock = syscall.O_NONBLOCK
