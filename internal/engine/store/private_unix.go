//go:build unix

package store

import (
	"os"
	"syscall"
)

// owner returns the user ID that owns a file.
func owner(fi os.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}
