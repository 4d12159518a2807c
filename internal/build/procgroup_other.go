//go:build !unix

package build

import "os/exec"

// interruptGroup keeps exec.CommandContext's default (the go command is
// killed when the context ends) where process groups are missing.
func interruptGroup(*exec.Cmd) {}
