package engine

import (
	"strings"
	"testing"
)

// TestObjectNamesBounded: the names clients give environments, dSources,
// VDBs and source configs have at most 256 characters and no control
// character; a longer one (which could not be named again in a URL within
// --max-header-size) is refused before anything is made, saying why.
func TestObjectNamesBounded(t *testing.T) {
	_, c, src := slowSetup(t)
	long := strings.Repeat("n", 257)
	refused := func(what string, env envelope, says string) {
		t.Helper()
		if env.code != 400 || !strings.Contains(env.Error.Details, says) {
			t.Errorf("%s: %d %+v; want 400 saying %q", what, env.code, env.Error, says)
		}
	}
	refused("environment", c.call("POST", "delphix/environment", map[string]any{"name": long, "hostType": "local"}),
		"/name: the name is 257 characters long; a name has at most 256")
	refused("dSource", c.call("POST", "delphix/database/link", map[string]any{"name": long, "sourceConfig": src, "parameters": map[string]any{}}),
		"The dSource cannot be named so: the name is 257 characters long; a name has at most 256.")
	refused("VDB", c.call("POST", "delphix/database/provision", map[string]any{"name": "v\x1b[2J", "snapshot": "s", "environment": "here", "parameters": map[string]any{}}),
		"The VDB cannot be named so: the name holds the control character U+001B; a name has none.")
	refused("empty VDB", c.call("POST", "delphix/database/createEmpty", map[string]any{"name": "v\nw", "environment": "here", "repository": "slow", "parameters": map[string]any{}}),
		"the name holds the control character U+000A")
	refused("source config", c.call("POST", "delphix/sourceconfig", map[string]any{"name": long, "environment": "here", "repository": "slow", "parameters": map[string]any{"path": src + "2"}}),
		"The source config cannot be named so: the name is 257 characters long")
	if n := len(c.list("delphix/environment")); n != 1 {
		t.Errorf("%d environments; want only here", n)
	}
	if n := len(c.list("delphix/database")); n != 0 {
		t.Errorf("%d dSources and VDBs; want none", n)
	}
	if n := len(c.list("delphix/sourceconfig")); n != 1 {
		t.Errorf("%d source configs; want only the one of the setup", n)
	}
	// 256 characters, any script, are a name.
	name := strings.Repeat("é", 256)
	c.mustComplete("environment add", c.call("POST", "delphix/environment", map[string]any{"name": name, "hostType": "local"}))
}
