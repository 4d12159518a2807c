//go:build unix

package engine

import (
	"os"
	"syscall"
)

// hardLinks is the number of hard links of the file st describes.
func hardLinks(st os.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Nlink)
	}
	return 1
}
