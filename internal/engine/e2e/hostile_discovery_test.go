//go:build e2e

package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileDiscoveryBounded: every repository and source config a
// plugin's discovery returns becomes a row of the engine's database and an
// event of the job, and every repository one more source config discovery
// of up to 4 MiB. A plugin answered 1500 repositories (it could answer
// 270,000 in one 4 MiB answer), 4000 source configs per repository, or
// 3.5 MB of source configs per repository: the engine stored them all,
// without bound (testdata/plugins/hostile, flood.go). Now one plugin's
// discovery on one environment keeps at most 1000 repositories and 10,000
// source configs of at most 64 MiB in all, and fails beyond, saying why,
// before it stores the answer that goes over.
func TestHostileDiscoveryBounded(t *testing.T) {
	_, e, data, _ := hostileRun(t, "quiet", false)
	rec := &recorder{t: t, home: filepath.Join(filepath.Dir(data), "client"), env: []string{"DVP_PASSWORD=" + adminPassword}}
	a := e.api(t)
	// count returns the number of objects listed and the size of their
	// parameters (what the plugin returned).
	count := func(what string) (n int, size int) {
		t.Helper()
		code, b := a.do("GET", "delphix/"+what, "application/json", nil)
		var list struct {
			Result []struct {
				Parameters json.RawMessage `json:"parameters"`
			} `json:"result"`
		}
		if code != 200 || json.Unmarshal(b, &list) != nil {
			t.Fatalf("%s: %d %.300s", what, code, b)
		}
		for _, r := range list.Result {
			size += len(r.Parameters)
		}
		return len(list.Result), size
	}
	for _, c := range []struct{ env, says string }{
		{"manyrepos", "discovery.repository() returned 1500 repositories: the engine keeps at most 1000 of one plugin on one environment"},
		{"manyconfigs", "the engine keeps at most 10000 source configs of one plugin on one environment"},
		{"bigconfigs", "the engine keeps at most 64 MiB of source configs of one plugin on one environment"},
	} {
		r := rec.run("", nil, "environment", "add", c.env, "--local", "-e", e.url, "-u", "admin")
		out := r.stdout + r.stderr
		if r.code == 0 || !strings.Contains(out, c.says) {
			t.Errorf("environment add %s: exit %d, want a failure saying %q\n%.4000s", c.env, r.code, c.says, out)
		}
		// The job's events quote a name the plugin gave up to 256 bytes
		// (each of the 500 KB names was quoted whole, 70 MB in all).
		if len(out) > 1<<20 {
			t.Errorf("environment add %s printed %d bytes of events", c.env, len(out))
		}
	}
	if n, _ := count("repository"); n > 1000+3+20 {
		t.Errorf("%d repositories stored", n)
	}
	if n, size := count("sourceconfig"); n > 10000 || size > 64<<20 {
		t.Errorf("%d source configs stored (%d bytes)", n, size)
	}
	if r := rec.run("", nil, "environment", "list", "-e", e.url, "-u", "admin"); r.code != 0 || !strings.Contains(r.stdout, "quiet") {
		t.Errorf("the engine does not answer after the floods: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestHostileMountSpecificationBounded: a plugin's mount specification
// may list any number of mounts, each a link the engine makes on a local
// host (or, on an SSH host, a copy of the whole storage), recorded with
// the dSource and checked before each of its operations: a link of a
// dSource whose specification held 500 mounts made 500 links. A
// specification holds at most 64 mounts now; beyond, the job fails before
// anything is mounted, saying why.
func TestHostileMountSpecificationBounded(t *testing.T) {
	_, e, data, _ := hostileRun(t, "manymounts", false)
	rec := &recorder{t: t, home: filepath.Join(filepath.Dir(data), "client"), env: []string{"DVP_PASSWORD=" + adminPassword}}
	r := rec.run("", nil, "dsource", "link", "ds", "--source-config", "c", "--params", "{}", "-e", e.url, "-u", "admin")
	out := r.stdout + r.stderr
	const says = "the mount specification holds 500 mounts: the engine makes at most 64 for one dSource or VDB"
	if r.code == 0 || !strings.Contains(out, says) {
		t.Errorf("link: exit %d, want a failure saying %q\n%.4000s", r.code, says, out)
	}
	home := filepath.Join(filepath.Dir(data), "home")
	links, _ := filepath.Glob(filepath.Join(home, ".dvp-scratch", "*", "*", "mounts", "m*"))
	if len(links) > 0 {
		t.Errorf("the refused link made %d mounts: %v ...", len(links), links[0])
	}
}
