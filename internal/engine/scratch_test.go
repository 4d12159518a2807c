package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
)

// Two engines of one user (two data directories, one home) give their
// first local environments, both UNIX_HOST_ENVIRONMENT-1, scratch paths
// apart; an engine keeps its own across a restart.
func TestScratchPathsAreTheEngines(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	add := func(te *testEngine, name string) engineapi.Environment {
		c := te.client(t)
		c.login(testPassword)
		c.mustComplete("environment add", c.call("POST", "delphix/environment", map[string]any{"name": name, "hostType": "local"}))
		var env engineapi.Environment
		if err := json.Unmarshal(c.call("GET", "delphix/environment/UNIX_HOST_ENVIRONMENT-1", nil).Result, &env); err != nil {
			t.Fatal(err)
		}
		return env
	}
	dirA := t.TempDir()
	a := startEngine(t, dirA, func(c *Config) { c.Home = home })
	b := startEngine(t, "", func(c *Config) { c.Home = home })
	envA, envB := add(a, "here"), add(b, "here")
	if envA.Reference != envB.Reference {
		t.Fatalf("references %s and %s: the test wants the same", envA.Reference, envB.Reference)
	}
	if envA.ScratchPath == envB.ScratchPath {
		t.Fatalf("both engines' environments have the scratch path %s", envA.ScratchPath)
	}
	for _, env := range []engineapi.Environment{envA, envB} {
		rel, err := filepath.Rel(filepath.Join(home, ".dvp-scratch"), env.ScratchPath)
		if err != nil || filepath.Dir(filepath.Dir(rel)) != "." || filepath.Base(rel) != env.Reference {
			t.Errorf("scratch path %s is not ~/.dvp-scratch/<engine id>/%s", env.ScratchPath, env.Reference)
		}
		if st, err := os.Stat(env.ScratchPath); err != nil || !st.IsDir() {
			t.Errorf("scratch path %s not made: %v", env.ScratchPath, err)
		}
	}
	a.stop()
	again := startEngine(t, dirA, func(c *Config) { c.Home = home })
	c := again.client(t)
	c.login(testPassword)
	c.mustComplete("environment add", c.call("POST", "delphix/environment", map[string]any{"name": "there", "hostType": "local"}))
	var env2 engineapi.Environment
	json.Unmarshal(c.call("GET", "delphix/environment/there", nil).Result, &env2)
	if filepath.Dir(env2.ScratchPath) != filepath.Dir(envA.ScratchPath) {
		t.Errorf("after a restart the engine's scratch paths are under %s, before under %s", filepath.Dir(env2.ScratchPath), filepath.Dir(envA.ScratchPath))
	}
}
