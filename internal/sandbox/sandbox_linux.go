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
	"slices"
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
	System   bool     `json:"system,omitempty"`
	Limits   Limits   `json:"limits"`
	Dir      string   `json:"dir,omitempty"`
	Cgroups  []string `json:"cgroups,omitempty"`
	UID      int      `json:"uid"`
	GID      int      `json:"gid"`
	Groups   []int    `json:"groups,omitempty"`
	AsUser   bool     `json:"asUser,omitempty"` // run as UID/GID/Groups (mapped from the host), not as the engine's user
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

// probe runs this executable's probe target in a full sandbox (its own
// root, hidden directory, exposed scratch work directory, read-only, no
// network).
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
	cleanup, err := s.Wrap(cmd, Policy{Hide: []string{dir}, Expose: []Bind{{Path: s.self}, {Path: work, Writable: true, ScratchBytes: 1 << 20}},
		ReadOnly: true, SystemOnly: true, Limits: DefaultLimits()})
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
	d := "user, mount, PID and network namespaces; plugins see only the system's programs and libraries, a scratch work directory, no data directory or ~/.dvp; rlimits (data size, processes, open files, CPU time)"
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
		if u := p.User; u != nil {
			cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: groups32(u.Groups)}
		}
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
	sp := spec{Hide: p.Hide, Expose: p.Expose, ReadOnly: p.ReadOnly, System: p.SystemOnly, Limits: p.Limits, Dir: cmd.Dir,
		UID: os.Getuid(), GID: os.Getgid(), Argv0: cmd.Args[0]}
	if u := p.User; u != nil {
		sp.UID, sp.GID, sp.Groups, sp.AsUser = u.UID, u.GID, uniqueGroups(u), true
		sp.Hide = append(append([]string(nil), sp.Hide...), closedAncestors(u, p.Expose)...)
	}
	cleanup = func() {}
	if s.cg != nil {
		dirs, release, err := s.cg.create(p.Limits, p.Group.dirs())
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
	if u := p.User; u != nil {
		// The sandbox's user namespace maps, besides root (its init), the
		// user and its groups to themselves: the init starts the command
		// with those IDs (a root engine writes these maps; setgroups stays
		// allowed so that the command gets exactly the user's groups).
		if os.Getuid() != 0 {
			cleanup()
			return nil, fmt.Errorf("only a root engine can run commands as the OS user %s", u.Name)
		}
		a := cmd.SysProcAttr
		if u.UID != 0 {
			a.UidMappings = append(a.UidMappings, syscall.SysProcIDMap{ContainerID: u.UID, HostID: u.UID, Size: 1})
		}
		for _, g := range uniqueGroups(u) {
			if g != 0 {
				a.GidMappings = append(a.GidMappings, syscall.SysProcIDMap{ContainerID: g, HostID: g, Size: 1})
			}
		}
		a.GidMappingsEnableSetgroups = true
	}
	if cmd.Cancel != nil { // made by exec.CommandContext
		cmd.Cancel = killGroup(cmd)
	}
	return cleanup, nil
}

// closedAncestors are, for each exposed path, its highest ancestor that u
// cannot search (a private home such as /root above the data directory):
// the sandbox hides it too, so that the exposed path, bound back into the
// hiding tmpfs, is reachable by u. u could not see anything under it
// anyway.
func closedAncestors(u *User, binds []Bind) []string {
	groups := uniqueGroups(u)
	var out []string
	for _, b := range binds {
		p := filepath.Clean(b.Path)
		parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
		for i := 1; i < len(parts); i++ {
			a := "/" + strings.Join(parts[:i], "/")
			st, err := os.Stat(a)
			if err != nil {
				break
			}
			sys, ok := st.Sys().(*syscall.Stat_t)
			if !ok {
				break
			}
			perm := st.Mode().Perm()
			var search bool
			switch {
			case int(sys.Uid) == u.UID:
				search = perm&0o100 != 0
			case slices.Contains(groups, int(sys.Gid)):
				search = perm&0o010 != 0
			default:
				search = perm&0o001 != 0
			}
			if !search {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// uniqueGroups are u's GID and supplementary groups, each once, GID first.
func uniqueGroups(u *User) []int {
	out := []int{u.GID}
	for _, g := range u.Groups {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

func groups32(gs []int) []uint32 {
	out := make([]uint32, len(gs))
	for i, g := range gs {
		out[i] = uint32(g)
	}
	return out
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

// Group is a cgroup per controller (pids, memory) under which the
// sandboxes of a Policy with this Group get their own: the kernel counts
// their processes and memory together against the group's Limits. A root
// engine gives one to each plugin process and the commands it runs on
// local environments, so that --max-processes and --max-memory bound them
// together; without cgroups (an engine that is not root) it is nil and
// each sandbox has only its own limits.
type Group struct {
	paths   []string
	release func()
}

// NewGroup makes a group with limits l, or returns nil when this sandbox
// has no cgroups (or s is nil).
func (s *Sandbox) NewGroup(l Limits) (*Group, error) {
	if s == nil || s.cg == nil {
		return nil, nil
	}
	dirs, release, err := s.cg.create(l, nil)
	if err != nil {
		return nil, err
	}
	return &Group{paths: dirs, release: release}, nil
}

func (g *Group) dirs() []string {
	if g == nil {
		return nil
	}
	return g.paths
}

// Close kills what still runs in the group and removes it; nil is a
// no-op.
func (g *Group) Close() {
	if g != nil {
		g.release()
	}
}
