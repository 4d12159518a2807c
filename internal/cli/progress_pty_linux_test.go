package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	return master, slave
}

// TestBuildProgressOnTerminal: dvp build shows which step runs on stderr
// when it is a terminal (the go command, a stand-in here, compiles until
// the test has seen the progress line), and nothing of it on stdout, a
// pipe; with TERM=dumb, a terminal that cannot erase a line, it draws no
// progress at all.
func TestBuildProgressOnTerminal(t *testing.T) {
	for _, term := range []string{"xterm", "dumb"} {
		t.Run(term, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if code, stderr := runDvp(t, "init", "-r", dir, "-n", "progress"); code != 0 {
				t.Fatalf("dvp init: exit %d\n%s", code, stderr)
			}
			bin := t.TempDir()
			started, release := filepath.Join(bin, "started"), filepath.Join(bin, "release")
			os.WriteFile(filepath.Join(bin, "go"), []byte("#!/bin/sh\n: > "+started+"\nwhile [ ! -e "+release+" ]; do sleep 0.05; done\necho 'compile error' >&2\nexit 1\n"), 0o755)
			master, slave := openPTY(t)
			defer master.Close()
			cmd := exec.Command("dvp", "build")
			cmd.Dir = dir
			cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir(), "TERM="+term, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			var stdout bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, slave
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			slave.Close()
			t.Cleanup(func() { cmd.Process.Kill(); os.WriteFile(release, nil, 0o644) })
			var mu sync.Mutex
			var tty bytes.Buffer
			read := make(chan struct{})
			go func() {
				defer close(read)
				b := make([]byte, 4096)
				for {
					n, err := master.Read(b)
					mu.Lock()
					tty.Write(b[:n])
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
			seen := func() string { mu.Lock(); defer mu.Unlock(); return tty.String() }
			// Progress shows once a step has run a second: on xterm wait for
			// it; with TERM=dumb give it 1.5 s of compiling to (not) show.
			since := -1
			for i := 0; i < 3000; i++ {
				if _, err := os.Stat(started); err == nil && since < 0 {
					since = i
				}
				if since >= 0 && (term == "dumb" && i-since > 150 || strings.Contains(seen(), "dvp build: compile")) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			os.WriteFile(release, nil, 0o644)
			code := exitCode(t, cmd.Wait())
			<-read
			out := seen()
			if code != 1 || strings.ContainsAny(stdout.String(), "\r\033") {
				t.Errorf("exit %d, stdout %q", code, stdout.String())
			}
			switch term {
			case "xterm":
				if !strings.Contains(out, "\r\033[K") || !strings.Contains(out, "dvp build: compile (") {
					t.Errorf("no progress line on the terminal: %q", out)
				}
			case "dumb":
				if strings.Contains(out, "\033") {
					t.Errorf("escape codes with TERM=dumb: %q", out)
				}
			}
		})
	}
}
