//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostilePluginStaysOnItsEnvironments: a plugin's library call names
// the environment it runs on by the connection it passes, and the engine
// ran the command on whichever environment that named. A plugin whose
// discovery ran on an environment of an unprivileged OS user built a
// connection to the engine's other environment (references are numbered)
// and ran commands there as root (testdata/plugins/hostile, crossenv.go);
// on an SSH environment it would have used that environment's key. Now a
// plugin runs commands only on the environments of its operation's
// connections, and the call is refused, saying why.
func TestHostilePluginStaysOnItsEnvironments(t *testing.T) {
	_, e, data, _ := hostileRun(t, "quiet", false)
	rec := &recorder{t: t, home: filepath.Join(filepath.Dir(data), "client"), env: []string{"DVP_PASSWORD=" + adminPassword}}
	args := []string{"environment", "add", "crossenv", "--local", "-e", e.url, "-u", "admin"}
	ownUser := "root"
	if os.Geteuid() == 0 {
		u := testUser(t)
		args, ownUser = append(args, "--os-user", u.Username), u.Username
	}
	if r := rec.run("", nil, args...); r.code != 0 {
		t.Fatalf("environment add crossenv: exit %d\n%s\n%s\nengine:\n%s", r.code, r.stdout, r.stderr, e.out)
	}
	got := repositoryNames(t, e)
	tried := 0
	for k, v := range got {
		if !strings.HasPrefix(k, "cross-") {
			continue
		}
		tried++
		const says = "which this operation was not given"
		if !strings.Contains(v, says) {
			t.Errorf("run_bash on the environment %s through a connection the plugin made: %q, want a refusal saying %q", strings.TrimPrefix(k, "cross-"), v, says)
		}
	}
	if tried == 0 {
		t.Errorf("the plugin found no other environment to try (the environment quiet exists): %v", got)
	}
	if want := "ran as " + ownUser; got["own"] != want {
		t.Errorf("run_bash on its own environment: %q, want %q", got["own"], want)
	}
}

// repositoryNames are the repositories the engine stores, name=value (the
// hostile plugin's reports), as a map.
func repositoryNames(t *testing.T, e *engineProc) map[string]string {
	t.Helper()
	code, b := e.api(t).do("GET", "delphix/repository", "application/json", nil)
	var list struct {
		Result []struct {
			Name string `json:"name"`
		} `json:"result"`
	}
	if code != 200 || json.Unmarshal(b, &list) != nil {
		t.Fatalf("repositories: %d %s", code, b)
	}
	got := map[string]string{}
	for _, r := range list.Result {
		k, v, _ := strings.Cut(r.Name, "=")
		got[k] = v
	}
	t.Logf("attempts: %v", got)
	return got
}

// hostileDiscover adds the local environment env to the engine e, whose
// hostile plugin's discovery there makes the attack env names, and
// returns the repositories (repositoryNames).
func hostileDiscover(t *testing.T, e *engineProc, env string) map[string]string {
	t.Helper()
	rec := &recorder{t: t, home: filepath.Join(filepath.Dir(e.dataDir), "client"), env: []string{"DVP_PASSWORD=" + adminPassword}}
	if r := rec.run("", nil, "environment", "add", env, "--local", "-e", e.url, "-u", "admin"); r.code != 0 {
		t.Fatalf("environment add %s: exit %d\n%s\n%s\nengine:\n%s", env, r.code, r.stdout, r.stderr, e.out)
	}
	return repositoryNames(t, e)
}
