// Command rsslaunch runs a command and writes its peak resident set size
// (KiB) to the file named by RSSLAUNCH_OUT; it exits with the command's
// exit code.
//
// Why not the test's own getrusage: Go starts children with
// clone(CLONE_VM|CLONE_VFORK), and on exec Linux records the peak RSS of
// the memory the child shared until then — the parent's — as the child's
// ru_maxrss. A test process that once held 50 MiB would make every
// command it runs look at least that big. This launcher is a few MiB, so
// what it reports is the command's own peak (or this launcher's, a few
// MiB, whichever is larger).
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: RSSLAUNCH_OUT=FILE rsslaunch COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		fmt.Fprintln(os.Stderr, "rsslaunch:", err)
		os.Exit(127)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		if err := os.WriteFile(os.Getenv("RSSLAUNCH_OUT"), []byte(fmt.Sprint(ru.Maxrss)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "rsslaunch:", err)
			os.Exit(127)
		}
	}
	os.Exit(cmd.ProcessState.ExitCode())
}
