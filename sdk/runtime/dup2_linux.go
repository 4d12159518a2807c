//go:build linux

package runtime

import "syscall"

// dup2 uses dup3, which every Linux architecture has (dup2 is missing on
// arm64, riscv64 and loong64).
func dup2(oldfd, newfd int) error { return syscall.Dup3(oldfd, newfd, 0) }
