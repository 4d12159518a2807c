package cli_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/cli"
	"github.com/dvpkit/dvp/internal/testio"
	"github.com/spf13/cobra"
)

// startDvp starts the dvp binary (the test binary as dvp, on PATH).
func startDvp(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *testio.Buffer) {
	t.Helper()
	cmd := exec.Command("dvp", args...)
	cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir(), "DVP_ENGINE=", "DVP_USER=", "DVP_PASSWORD=")
	var out bytes.Buffer
	errb := &testio.Buffer{}
	cmd.Stdout, cmd.Stderr = &out, errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, &out, errb
}

func exitCode(t *testing.T, err error) int {
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if ee != nil {
		return ee.ExitCode()
	}
	return 0
}

// TestInterruptLeavesJobRunning: a signal while dvp follows a job ends it
// with 128+signal and one line naming the job, which goes on running on
// the engine, and the commands that follow or cancel it; the job's
// reference was the first line dvp printed.
func TestInterruptLeavesJobRunning(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		name string
		code int
		wait []string // --wait, the default, given or not
	}{{syscall.SIGINT, "SIGINT", 130, nil}, {syscall.SIGTERM, "SIGTERM", 143, []string{"--wait"}}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, polled := runningSyncEngine(t)
			cmd, out, errb := startDvp(t, append([]string{"dsource", "sync", "ds", "-e", srv.URL, "-u", "admin", "--password", "pw"}, tc.wait...)...)
			<-polled
			cmd.Process.Signal(tc.sig)
			code := exitCode(t, cmd.Wait())
			stderr := errb.String()
			want := "Interrupted (" + tc.name + "): job JOB-7 goes on running on the engine; follow it with 'dvp job wait JOB-7' or cancel it with 'dvp job cancel JOB-7'.\n"
			if code != tc.code || !strings.HasSuffix(stderr, want) || strings.Contains(stderr, "context canceled") || out.Len() != 0 ||
				!strings.HasPrefix(stderr, "Started job JOB-7: 'dvp job wait JOB-7' follows it, 'dvp job cancel JOB-7' cancels it.\n") {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit %d and stderr ending %q", code, out, stderr, tc.code, want)
			}
		})
	}
}

// TestInterruptStalledUpload: a signal while the engine says nothing ends
// dvp upload with one line, exit 130.
func TestInterruptStalledUpload(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	art := filepath.Join(t.TempDir(), "artifact.json")
	os.WriteFile(art, []byte(`{"engineApi": {"type": "APIVersion", "major": 1, "minor": 11, "micro": 0}}`), 0o644)
	cmd, _, errb := startDvp(t, "upload", "-e", "http://"+ln.Addr().String(), "-u", "admin", "--password", "pw", "-a", art)
	c := <-accepted
	defer c.Close()
	cmd.Process.Signal(syscall.SIGINT)
	code := exitCode(t, cmd.Wait())
	stderr := errb.String()
	if code != 130 || !strings.HasPrefix(stderr, "Interrupted (SIGINT): ") || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "context canceled") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// waitForFile polls until path exists or the process ends (bounded by the
// number of polls, not by the clock of the assertion).
func waitForFile(t *testing.T, path string, cmd *exec.Cmd, errb *testio.Buffer) {
	t.Helper()
	for i := 0; i < 3000; i++ {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never appeared; stderr:\n%s", path, errb.String())
}

// TestInterruptBuild: a signal while dvp build compiles ends it with
// 128+signal and one line saying the artifact was left as it was: no
// failure report, no "context canceled", nothing on stdout (also with
// -o json). The go command is a stand-in that waits, so the signal
// arrives while the plugin compiles.
func TestInterruptBuild(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		name string
		code int
		args []string
	}{{syscall.SIGINT, "SIGINT", 130, nil}, {syscall.SIGTERM, "SIGTERM", 143, []string{"-o", "json"}}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if code, stderr := runDvp(t, "init", "-r", dir, "-n", "sig"); code != 0 {
				t.Fatalf("dvp init: exit %d\n%s", code, stderr)
			}
			bin := t.TempDir()
			started := filepath.Join(bin, "started")
			os.WriteFile(filepath.Join(bin, "go"), []byte("#!/bin/sh\n: > "+started+"\nexec sleep 60\n"), 0o755)
			cmd := exec.Command("dvp", append([]string{"build"}, tc.args...)...)
			cmd.Dir = dir
			cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			var out bytes.Buffer
			errb := &testio.Buffer{}
			cmd.Stdout, cmd.Stderr = &out, errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			waitForFile(t, started, cmd, errb)
			cmd.Process.Signal(tc.sig)
			code := exitCode(t, cmd.Wait())
			want := "Interrupted (" + tc.name + "): the artifact artifact.json was left as it was.\n"
			if code != tc.code || errb.String() != want || out.Len() != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, no stdout, stderr %q", code, out.String(), errb.String(), tc.code, want)
			}
			if _, err := os.Stat(filepath.Join(dir, "artifact.json")); !os.IsNotExist(err) {
				t.Errorf("an artifact was written: %v", err)
			}
		})
	}
}

// TestInterruptEngineServe: dvp engine serve stops gracefully on a signal
// and ends like every command, 128+signal and one line saying where it
// kept its data.
func TestInterruptEngineServe(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		name string
		code int
	}{{syscall.SIGINT, "SIGINT", 130}, {syscall.SIGTERM, "SIGTERM", 143}} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "engine")
			ready := filepath.Join(t.TempDir(), "url")
			cmd := exec.Command("dvp", "engine", "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--ready-file", ready, "--insecure-no-sandbox")
			cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir(), "DVP_ENGINE_ADMIN_PASSWORD=signal-test-pw")
			out, errb := &testio.Buffer{}, &testio.Buffer{}
			cmd.Stdout, cmd.Stderr = out, errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			waitForFile(t, ready, cmd, errb)
			cmd.Process.Signal(tc.sig)
			code := exitCode(t, cmd.Wait())
			want := "Interrupted (" + tc.name + "): the engine stopped gracefully (jobs still running were canceled) and kept its data in " + data + ".\n"
			if code != tc.code || !strings.HasSuffix(errb.String(), want) || !strings.HasSuffix(out.String(), "dvp engine stopped\n") ||
				strings.Contains(errb.String(), "context canceled") {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d and stderr ending %q", code, out, errb, tc.code, want)
			}
		})
	}
}

// TestEngineServeLevels: -q keeps only the URL line on stdout, -qq not
// even that, and -v says each thing once (the URL line and the interrupt
// line, not again as log lines).
func TestEngineServeLevels(t *testing.T) {
	for _, level := range []string{"-q", "-qq", "-v"} {
		t.Run(level, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "engine")
			ready := filepath.Join(t.TempDir(), "url")
			cmd := exec.Command("dvp", level, "engine", "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--ready-file", ready, "--insecure-no-sandbox")
			cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir(), "DVP_ENGINE_ADMIN_PASSWORD=signal-test-pw")
			out, errb := &testio.Buffer{}, &testio.Buffer{}
			cmd.Stdout, cmd.Stderr = out, errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			waitForFile(t, ready, cmd, errb)
			url, _ := os.ReadFile(ready)
			cmd.Process.Signal(syscall.SIGTERM)
			code := exitCode(t, cmd.Wait())
			listening := "dvp engine listening on " + strings.TrimSpace(string(url)) + " (data in " + data + ")\n"
			interrupted := "Interrupted (SIGTERM): the engine stopped gracefully (jobs still running were canceled) and kept its data in " + data + ".\n"
			stdout, stderr := out.String(), errb.String()
			var ok bool
			switch level {
			case "-q":
				ok = stdout == listening && stderr == interrupted
			case "-qq":
				ok = stdout == "" && stderr == interrupted
			case "-v":
				ok = strings.HasPrefix(stdout, listening) && strings.HasSuffix(stdout, "dvp engine stopped\n") && strings.HasSuffix(stderr, interrupted) &&
					strings.Count(stdout+stderr, "listening") == 1 && strings.Count(stdout+stderr, "stopped") == 2 && !strings.Contains(stderr, "signal=")
			}
			if code != 143 || !ok {
				t.Errorf("dvp %s engine serve: exit %d\nstdout:\n%s\nstderr:\n%s", level, code, stdout, stderr)
			}
		})
	}
}

// TestInterruptAfterWorkDone: a command that had nothing to wait for ends
// its work after a signal came (dvp init, dvp validate); it exits with the
// signal's code all the same, saying what it left, so that a script sees
// every command it interrupted as interrupted.
func TestInterruptAfterWorkDone(t *testing.T) {
	var errb bytes.Buffer
	finish := &cobra.Command{Use: "finish-anyway", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		syscall.Kill(os.Getpid(), syscall.SIGINT)
		<-cmd.Context().Done() // the signal came; the work goes on, and ends
		return nil
	}}
	app := &cli.App{IO: cli.IO{In: strings.NewReader(""), Out: io.Discard, Err: &errb, Getwd: os.Getwd}, ExtraCommands: []*cobra.Command{finish}}
	if code := app.Main([]string{"finish-anyway"}); code != 130 || errb.String() != "Interrupted (SIGINT): nothing was left half-done.\n" {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
