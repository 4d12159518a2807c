//go:build linux

package safefs

import (
	"os"
	"syscall"
)

func umask(m int) int { return syscall.Umask(m) }

func owner(fi os.FileInfo) int { return int(fi.Sys().(*syscall.Stat_t).Uid) }
