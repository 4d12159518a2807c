//go:build !linux

package sandbox

import (
	"context"
	"errors"
	"os/exec"
	"runtime"
)

// Sandbox is unsupported outside Linux; a nil *Sandbox runs commands
// without isolation.
type Sandbox struct{}

// New reports that the sandbox is not supported on this system.
func New() (*Sandbox, error) {
	return nil, errors.New("the sandbox is not supported on " + runtime.GOOS + " (it needs Linux namespaces)")
}

// Describe says which isolation is active.
func (s *Sandbox) Describe() string {
	return "none (--insecure-no-sandbox): plugin processes and local commands run as the engine's user with its whole view of the file system"
}

// Wrap only puts cmd in its own process group (where the system has them).
func (s *Sandbox) Wrap(cmd *exec.Cmd, p Policy) (func(), error) {
	if p.User != nil {
		return nil, errors.New("running commands as another OS user is supported on Linux only")
	}
	ProcessGroup(cmd)
	return func() {}, nil
}

// Command is exec.CommandContext with Wrap applied.
func (s *Sandbox) Command(ctx context.Context, p Policy, dir string, env []string, name string, args ...string) (*exec.Cmd, func(), error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	cleanup, err := s.Wrap(cmd, p)
	return cmd, cleanup, err
}

// Group is a group of sandboxes bounded together: none outside Linux.
type Group struct{}

// NewGroup returns nil: no cgroups outside Linux.
func (s *Sandbox) NewGroup(Limits) (*Group, error) { return nil, nil }

// Close is a no-op.
func (g *Group) Close() {}
