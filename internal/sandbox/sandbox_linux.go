//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
)

// Sandbox starts commands isolated; a nil *Sandbox starts them without
// isolation (only in their own process group, killed as a group).
type Sandbox struct {
	self string   // the executable with the init mode
	cg   *cgroups // nil: rlimits only
}

// spec is what the init process is told (its first argument, JSON).
type spec struct {
	Hide     []string `json:"hide,omitempty"`
	Expose   []Bind   `json:"expose,omitempty"`
	ReadOnly bool     `json:"readOnly,omitempty"`
	Limits   Limits   `json:"limits"`
	Dir      string   `json:"dir,omitempty"`
	Cgroups  []string `json:"cgroups,omitempty"`
	UID      int      `json:"uid"`
	GID      int      `json:"gid"`
	Argv0    string   `json:"argv0"`

	mounted []Bind // the exposed paths bound (the init's own record)
}

// New checks that this kernel can sandbox (it starts one sandboxed
// process) and returns a Sandbox that re-executes this program's
// executable in the init mode.
func New() (*Sandbox, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("the sandbox needs this program's executable: %v", err)
	}
	s := &Sandbox{self: self, cg: openCgroups()}
	if err := s.probe(); err != nil {
		return nil, err
	}
	return s, nil
}

// probe runs this executable's probe target in a full sandbox (hidden
// directory, exposed work directory, read-only root, no network).
func (s *Sandbox) probe() error {
	dir, err := os.MkdirTemp("", "dvp-sandbox-probe-")
	if err != nil {
		return fmt.Errorf("the sandbox probe cannot create a temporary directory: %v", err)
	}
	defer os.RemoveAll(dir)
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		return err
	}
	cmd := exec.Command(s.self, InitArg, probeTarget)
	cmd.Dir = work
	cmd.Env = Env(nil, work)
	out := &capped{max: 4096}
	cmd.Stdout, cmd.Stderr = out, out
	cleanup, err := s.Wrap(cmd, Policy{Hide: []string{dir}, Expose: []Bind{{Path: work, Writable: true}}, ReadOnly: true, Limits: DefaultLimits()})
	if err != nil {
		return err
	}
	defer cleanup()
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("this kernel cannot run the sandbox (user, mount, PID and network namespaces): %s", msg)
	}
	return nil
}

// Describe says which isolation is active.
func (s *Sandbox) Describe() string {
	if s == nil {
		return "none (--insecure-no-sandbox): plugin processes and local commands run as the engine's user with its whole view of the file system"
	}
	d := "user, mount, PID and network namespaces; data directory and ~/.dvp hidden; rlimits (data size, processes, open files, CPU time)"
	if s.cg != nil {
		d += "; cgroup v1 " + s.cg.describe()
	}
	return d
}

// Wrap makes cmd (built with exec.Command or exec.CommandContext, not
// started) run in the sandbox of policy p: cmd's process becomes the init
// of a new PID namespace, which starts the real command; when the init
// ends, is killed, or its parent (this process) dies, every process of the
// namespace dies. cmd.Env should come from Env. The returned function
// releases what Wrap set up; call it after cmd has been waited for. A nil
// Sandbox only puts cmd in its own process group.
func (s *Sandbox) Wrap(cmd *exec.Cmd, p Policy) (cleanup func(), err error) {
	if s == nil {
		ProcessGroup(cmd)
		return func() {}, nil
	}
	if cmd.Process != nil {
		return nil, errors.New("sandbox: the command is already started")
	}
	target := cmd.Path
	if !filepath.IsAbs(target) {
		if target, err = exec.LookPath(target); err != nil {
			return nil, err
		}
	}
	sp := spec{Hide: p.Hide, Expose: p.Expose, ReadOnly: p.ReadOnly, Limits: p.Limits, Dir: cmd.Dir,
		UID: os.Getuid(), GID: os.Getgid(), Argv0: cmd.Args[0]}
	cleanup = func() {}
	if s.cg != nil {
		dirs, release, err := s.cg.create(p.Limits)
		if err != nil {
			return nil, err
		}
		sp.Cgroups, cleanup = dirs, release
	}
	raw, err := json.Marshal(sp)
	if err != nil {
		cleanup()
		return nil, err
	}
	cmd.Path = s.self
	cmd.Args = append([]string{s.self, InitArg, string(raw), target}, cmd.Args[1:]...)
	cmd.Err = nil
	flags := uintptr(syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID)
	if !p.Network {
		flags |= syscall.CLONE_NEWNET
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 flags,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		Setpgid:                    true,
		Pdeathsig:                  syscall.SIGKILL,
	}
	if cmd.Cancel != nil { // made by exec.CommandContext
		cmd.Cancel = killGroup(cmd)
	}
	return cleanup, nil
}

// ProcessGroup starts cmd in its own process group and makes its
// cancellation kill the whole group.
func ProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if cmd.Cancel != nil { // made by exec.CommandContext
		cmd.Cancel = killGroup(cmd)
	}
}

func killGroup(cmd *exec.Cmd) func() error {
	return func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Command is exec.CommandContext with Wrap applied.
func (s *Sandbox) Command(ctx context.Context, p Policy, dir string, env []string, name string, args ...string) (*exec.Cmd, func(), error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	cleanup, err := s.Wrap(cmd, p)
	if err != nil {
		return nil, nil, err
	}
	return cmd, cleanup, nil
}

var seq atomic.Int64

// capped keeps the first max bytes written.
type capped struct {
	max int
	b   []byte
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *capped) String() string { return string(c.b) }
