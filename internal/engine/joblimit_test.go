package engine

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/engineapi"
	"github.com/dvpkit/dvp/internal/testio"
)

// TestJobsAtOnceBounded: clients that start jobs in a loop (syncs of one
// dSource queue behind each other, each a goroutine and a job row; syncs of
// many run at once, each a plugin process) are bounded by --max-jobs (4
// here): one session holds at most half, the engine at most all; beyond,
// the request is refused with the API's ErrorResult saying why, 429 or 503
// with Retry-After, and records no job. A job that ends frees its place.
func TestJobsAtOnceBounded(t *testing.T) {
	logs := new(testio.Buffer)
	te, a, src := slowSetup(t, func(c *Config) {
		c.MaxJobs = 4
		c.Log = slog.New(slog.NewTextHandler(logs, nil))
	})
	a.mustComplete("link", a.call("POST", "delphix/database/link", map[string]any{"name": "ds", "sourceConfig": src, "parameters": map[string]any{"mountLocation": filepath.Join(t.TempDir(), "mnt")}}))
	os.WriteFile(filepath.Join(src, "lines"), []byte("1\n"), 0o644)
	os.WriteFile(filepath.Join(src, "hang"), nil, 0o644)

	sync := func(c *client) envelope { return c.call("POST", "delphix/database/ds/sync", map[string]any{}) }
	started := func(who string, env envelope) string {
		t.Helper()
		if env.Type != "OKResult" || env.Job == nil {
			t.Fatalf("%s: %d %+v; want a started job", who, env.code, env)
		}
		return *env.Job
	}
	refused := func(who string, c *client, status int, id, details string) {
		t.Helper()
		resp, body := c.do("POST", "delphix/database/ds/sync", "application/json", strings.NewReader("{}"))
		var env envelope
		json.Unmarshal(body, &env)
		if resp.StatusCode != status || env.Error.ID != id || !strings.Contains(env.Error.Details, details) ||
			!strings.Contains(env.Error.Action, "dvp job cancel") || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: %d (Retry-After %q) %+v; want %d %s saying %q", who, resp.StatusCode, resp.Header.Get("Retry-After"), env.Error, status, id, details)
		}
	}
	running := func() int {
		var listed []engineapi.Job
		json.Unmarshal(a.call("GET", "delphix/job?jobState=RUNNING&target=ds", nil).Result, &listed)
		return len(listed)
	}

	started("a's first sync", sync(a))
	second := started("a's second sync", sync(a))
	refused("a's third sync", a, 429, "exception.webservices.jobs.session.limit",
		`Sync dSource "ds" was not started: this session already has 2 jobs that have not ended, its share of --max-jobs (4).`)
	b := te.client(t)
	b.login(testPassword)
	started("b's first sync", sync(b))
	started("b's second sync", sync(b))
	c := te.client(t)
	c.login(testPassword)
	refused("c's sync", c, 503, "exception.webservices.jobs.busy",
		"the engine already has 4 jobs that clients started and that have not ended (--max-jobs 4)")
	// A request that makes an object for its job (here an environment)
	// is refused before it makes it: nothing is left behind.
	if env := c.call("POST", "delphix/environment", map[string]any{"name": "there", "hostType": "local"}); env.code != 503 || env.Error.ID != "exception.webservices.jobs.busy" ||
		!strings.HasPrefix(env.Error.Details, `Add environment "there" was not started`) {
		t.Errorf("an environment added at the limit: %d %+v", env.code, env.Error)
	}
	if list := a.list("delphix/environment"); len(list) != 1 {
		t.Errorf("%d environments; want only here (the refused addition left nothing)", len(list))
	}
	if n := running(); n != 4 {
		t.Errorf("%d jobs of ds not ended; want 4 (the refused requests record none)", n)
	}
	// The engine at its bound is an expected condition: a warning, not an
	// error (the warnings of one kind are rate-limited: busylog_test.go).
	if l := logs.String(); !strings.Contains(l, `level=WARN msg="request refused: the engine is busy"`) ||
		!strings.Contains(l, "id=exception.webservices.jobs.busy") || strings.Contains(l, "level=ERROR") {
		t.Errorf("the engine's log of the busy refusals:\n%s", l)
	}

	// A job that ends gives its place back.
	if env := a.call("POST", "delphix/job/"+second+"/cancel", nil); env.Type != "OKResult" {
		t.Fatalf("cancel: %+v", env)
	}
	a.waitFor(second, "ended", func(j engineapi.Job) bool { return j.JobState != "RUNNING" })
	started("c's sync once a job ended", sync(c))
}
