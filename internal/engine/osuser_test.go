package engine

import (
	"os"
	"os/user"
	"strings"
	"testing"
)

// An engine without a sandbox refuses another OS user for a local
// environment, on add and on update, saying why: the user's commands
// would not reach the storage their mounts link to. A local environment
// has no SSH settings to update, an SSH one no OS user.
func TestOSUserNeedsTheSandbox(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root: an unprivileged engine refuses another OS user before the sandbox matters")
	}
	if _, err := user.Lookup("nobody"); err != nil {
		t.Skip("no user nobody")
	}
	te := startEngine(t, "") // no Config.Sandbox: --insecure-no-sandbox
	c := te.client(t)
	c.login(testPassword)
	const why = "the engine runs without a sandbox (--insecure-no-sandbox): commands started as the OS user \"nobody\" could not reach the storage their mounts link to"
	env := c.call("POST", "delphix/environment", map[string]any{"name": "x", "hostType": "local", "osUser": "nobody"})
	if env.Status != "ERROR" || !strings.Contains(env.Error.Details, why) || !strings.Contains(env.Error.Details, "dvp environment add --os-user") {
		t.Errorf("add --os-user nobody without a sandbox: %d %+v", env.code, env.Error)
	}
	c.mustComplete("environment add", c.call("POST", "delphix/environment", map[string]any{"name": "here", "hostType": "local"}))
	env = c.call("POST", "delphix/environment/here", map[string]any{"type": "EnvironmentUpdateParameters", "osUser": "nobody"})
	if env.Status != "ERROR" || !strings.Contains(env.Error.Details, why) || !strings.Contains(env.Error.Details, "dvp environment update --os-user") {
		t.Errorf("update --os-user nobody without a sandbox: %d %+v", env.code, env.Error)
	}
	// The engine's own user (osUser ""): nothing changes.
	events := c.mustComplete("update", c.call("POST", "delphix/environment/here", map[string]any{"type": "EnvironmentUpdateParameters", "osUser": ""}))
	if !strings.Contains(strings.Join(events, "\n"), "The commands of here already run as ") {
		t.Errorf("update to the same user: %q", events)
	}
}
