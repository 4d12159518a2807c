package dvptest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// AdminPasswordEnv is how the private engine gets its admin password (the
// variable dvp engine serve reads).
const AdminPasswordEnv = "DVP_ENGINE_ADMIN_PASSWORD"

// privateEngine is a dvp engine serve process of one run: its own data
// directory, a random admin password, a free loopback port.
type privateEngine struct {
	cmd      *exec.Cmd
	URL      string
	DataDir  string
	LogPath  string
	Password string
	// PasswordFile holds the password (0600), for --keep's instructions.
	PasswordFile string
	exited       chan struct{}
	waitErr      error
}

// startEngine starts exe (the dvp binary) as "engine serve" with its data
// in dir/engine and waits until it accepts connections. The engine runs in
// a process group of its own, so that a Ctrl-C on the terminal reaches dvp
// test, which then deletes what it made through the engine before it
// stops it. keep says the engine is to outlive dvp test (--keep).
func startEngine(ctx context.Context, exe, dir string, keep bool, startTimeout time.Duration) (*privateEngine, error) {
	pw := make([]byte, 18)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	e := &privateEngine{
		DataDir:      filepath.Join(dir, "engine"),
		LogPath:      filepath.Join(dir, "engine.log"),
		Password:     hex.EncodeToString(pw),
		PasswordFile: filepath.Join(dir, "admin-password"),
		exited:       make(chan struct{}),
	}
	if err := os.WriteFile(e.PasswordFile, []byte(e.Password+"\n"), 0o600); err != nil {
		return nil, err
	}
	ready := filepath.Join(dir, "engine.url")
	logf, err := os.OpenFile(e.LogPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// argv[0] is "dvp" whatever the file is called (a test binary that
	// dispatches on its name, say).
	e.cmd = &exec.Cmd{
		Path: exe,
		Args: []string{"dvp", "engine", "serve", "--listen", "127.0.0.1:0", "--data-dir", e.DataDir, "--ready-file", ready},
		Env:  append(engineEnv(os.Environ()), AdminPasswordEnv+"="+e.Password),
		Dir:  dir,
		// Its own group: a terminal's Ctrl-C is dvp test's to handle.
		// Unless --keep, it also gets SIGTERM when dvp test dies without
		// stopping it, where the system can say so (engineProcAttr).
		SysProcAttr: engineProcAttr(keep),
		Stdout:      logf,
		Stderr:      logf,
	}
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start the engine (%s engine serve): %v", exe, err)
	}
	go func() {
		e.waitErr = e.cmd.Wait()
		close(e.exited)
	}()
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(ready); err == nil && strings.HasSuffix(string(b), "\n") {
			e.URL = strings.TrimSpace(string(b))
			return e, nil
		}
		select {
		case <-e.exited:
			return nil, fmt.Errorf("the engine stopped at start-up (%v); its log: %s", e.waitErr, tail(e.LogPath, 10))
		case <-ctx.Done():
			e.Stop(10 * time.Second)
			return nil, ctx.Err()
		case <-deadline.C:
			e.Stop(10 * time.Second)
			return nil, fmt.Errorf("the engine did not accept connections within %s; its log: %s", startTimeout, tail(e.LogPath, 10))
		case <-tick.C:
		}
	}
}

// engineEnv is the environment of the engine: dvp test's, without the
// DVP_ variables that name another engine or its password.
func engineEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "DVP_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Pid is the engine's process id.
func (e *privateEngine) Pid() int { return e.cmd.Process.Pid }

// Stop stops the engine: SIGTERM (it lets running jobs finish), then
// after grace SIGKILL to its whole process group.
func (e *privateEngine) Stop(grace time.Duration) error {
	select {
	case <-e.exited:
		return nil
	default:
	}
	if err := e.cmd.Process.Signal(syscall.SIGTERM); err == nil {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-e.exited:
			return nil
		case <-t.C:
		}
	}
	killGroup(e.cmd.Process)
	<-e.exited
	return errors.New("the engine did not stop within " + grace.String() + " and was killed")
}

// tail returns the last n lines of a file, for messages.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	const max = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		f.Seek(st.Size()-max, 0)
	}
	b := make([]byte, max)
	k, _ := f.Read(b)
	lines := strings.Split(strings.TrimRight(string(b[:k]), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
