//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// policySession is an engine with testdata/plugins/policy-recorder
// installed (built by dvp build), a local environment "here" and a source
// config "sc". Every dvp command runs through the CLI.
type policySession struct {
	t          *testing.T
	rec        *recorder
	e          *engineProc
	data, home string
	record     string // the file the plugin appends to
}

func newPolicySession(t *testing.T) *policySession {
	root := t.TempDir()
	s := &policySession{t: t, data: filepath.Join(root, "data"), home: filepath.Join(root, "home"), record: filepath.Join(root, "work", "record")}
	os.MkdirAll(s.home, 0o755)
	os.MkdirAll(filepath.Dir(s.record), 0o755)
	s.e = startEngineHome(t, s.data, s.home, adminPassword)
	s.rec = &recorder{t: t, home: s.home, env: append([]string{"DVP_PASSWORD=" + adminPassword}, goCacheEnv(t)...)}
	project := filepath.Join(root, "plugin")
	if err := os.CopyFS(project, os.DirFS(filepath.Join("..", "..", "..", "testdata", "plugins", "policy-recorder"))); err != nil {
		t.Fatal(err)
	}
	art := filepath.Join(root, "artifact.json")
	if r := s.rec.run("", nil, "build", "-c", filepath.Join(project, "plugin_config.yml"), "-a", art); r.code != 0 {
		t.Fatalf("dvp build: %d\n%s", r.code, r.stderr)
	}
	s.must("upload", "-a", art, "--wait")
	s.must("environment", "add", "here", "--local")
	s.must("source-config", "add", "sc", "--environment", "here", "--repository", "recorder-repo", "--params", `{"name": "sc"}`)
	return s
}

// run runs dvp against the session's engine: its flags go after the
// command's words (those before the first flag).
func (s *policySession) run(args ...string) result {
	s.t.Helper()
	i := 0
	for i < len(args) && !strings.HasPrefix(args[i], "-") {
		i++
	}
	full := append(append(append([]string{}, args[:i]...), "-e", s.e.url, "-u", "admin"), args[i:]...)
	return s.rec.run("", nil, full...)
}

func (s *policySession) must(args ...string) result {
	s.t.Helper()
	r := s.run(args...)
	if r.code != 0 {
		s.t.Fatalf("dvp %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// status returns the policy dvp dsource/vdb status -o json reports.
// jobRefs returns the references of the jobs of a dSource or VDB.
func (s *policySession) jobRefs(object string) map[string]bool {
	s.t.Helper()
	var jobs []struct {
		Reference string `json:"reference"`
	}
	r := s.must("job", "list", "--object", object, "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &jobs); err != nil {
		s.t.Fatalf("job list -o json: %v\n%s", err, r.stdout)
	}
	refs := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		refs[j.Reference] = true
	}
	return refs
}

func (s *policySession) policy(kind, name string) (p struct {
	Every, Schedule, NextRun, LastRun, LastJob, LastSkipped string
	KeepSnapshots                                           int
}) {
	s.t.Helper()
	var report struct {
		Status string          `json:"status"`
		Policy json.RawMessage `json:"policy"`
	}
	r := s.must(kind, "status", name, "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil || report.Status == "" || len(report.Policy) == 0 {
		s.t.Fatalf("%s status -o json: %v\n%s", kind, err, r.stdout)
	}
	json.Unmarshal(report.Policy, &p)
	return p
}

// records counts the record file's lines equal to line.
func (s *policySession) records(line string) int {
	b, _ := os.ReadFile(s.record)
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if l == line {
			n++
		}
	}
	return n
}

// await polls cond (bounded: the work, not the time) until it holds.
func (s *policySession) await(what string, cond func() bool) {
	s.t.Helper()
	for i := 0; i < 600; i++ {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("%s never happened", what)
}

type snapshotRow struct {
	Reference  string          `json:"reference"`
	Parameters json.RawMessage `json:"snapshotParameters"`
	Metadata   struct {
		PolicyDriven *bool `json:"policyDriven"`
	} `json:"metadata"`
}

func (s *policySession) snapshots(container string) []snapshotRow {
	s.t.Helper()
	var out []snapshotRow
	r := s.must("snapshot", "list", container, "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		s.t.Fatalf("snapshot list -o json: %v\n%s", err, r.stdout)
	}
	return out
}

// TestPoliciesEndToEnd drives a sync policy of one second through the CLI:
// the plugin sees null snapshot parameters on policy syncs only, retention
// keeps the newest two snapshots and the one a VDB was provisioned from,
// the policy survives a restart and runs once for the runs it missed, and
// a VDB's refresh policy refreshes it.
func TestPoliciesEndToEnd(t *testing.T) {
	s := newPolicySession(t)
	const nullLine, objectLine = "linked.pre_snapshot snapshot_parameters=null", "linked.pre_snapshot snapshot_parameters=object"

	// A link and a VDB on its first snapshot, before any policy.
	s.must("dsource", "link", "ds", "--source-config", "sc", "--params", `{"recordFile": "`+s.record+`"}`)
	snaps := s.snapshots("ds")
	if len(snaps) != 1 || s.records(objectLine) != 1 || s.records(nullLine) != 0 {
		t.Fatalf("after link: %+v, record %d/%d", snaps, s.records(objectLine), s.records(nullLine))
	}
	first := snaps[0].Reference
	s.must("vdb", "provision", "vdb", "--snapshot", first, "--environment", "here", "--params", `{"recordFile": "`+s.record+`"}`)

	// A sync every second, keeping two snapshots.
	r := s.must("dsource", "update", "ds", "--sync-every", "1s", "--keep-snapshots", "2")
	if !strings.Contains(r.stderr, "its sync policy is every 1s (next sync at ") || !strings.Contains(r.stderr, "it keeps the newest 2 snapshot(s)") {
		t.Errorf("update:\n%s", r.stderr)
	}
	s.await("three policy syncs", func() bool { return s.records(nullLine) >= 3 })
	p := s.policy("dsource", "ds")
	if p.Every != "1s" || p.KeepSnapshots != 2 || p.NextRun == "" || p.LastJob == "" {
		t.Errorf("policy: %+v", p)
	}
	r = s.must("dsource", "status", "ds")
	if !strings.Contains(r.stderr, "Policy: sync every 1s, next at ") {
		t.Errorf("status text:\n%s", r.stderr)
	}
	r = s.must("job", "show", p.LastJob, "-o", "json")
	if !strings.Contains(r.stdout, "The sync policy of ds (every 1s) runs this sync") || !strings.Contains(r.stdout, "Its snapshot parameters are null") {
		t.Errorf("a policy job:\n%s", r.stdout)
	}

	// A stop longer than the interval: at the restart the policy runs once
	// for the runs it missed, and says so. Every job since the restart is
	// read: the run for the missed ones is one of them, and later runs (one
	// a second) may follow it before a poll.
	before := s.jobRefs("ds")
	s.e.stop()
	time.Sleep(2 * time.Second) // let a run fall due while the engine is down
	s.e = startEngineHome(t, s.data, s.home, adminPassword)
	const missedText = "while the engine was stopped: the runs missed then are not caught up, this one stands for them all."
	s.await("a run for the missed ones", func() bool {
		for ref := range s.jobRefs("ds") {
			if before[ref] {
				continue
			}
			before[ref] = true // read once
			if strings.Contains(s.must("job", "show", ref, "-o", "json").stdout, missedText) {
				return true
			}
		}
		return false
	})

	// Off again; once its last job ended, the snapshots: the VDB's parent
	// and the newest two, each taken by the policy with null parameters.
	s.must("dsource", "update", "ds", "--sync-every", "0")
	last := s.policy("dsource", "ds")
	s.rec.run("", nil, "job", "wait", last.LastJob, "-e", s.e.url, "-u", "admin") // it may have failed when the engine stopped
	snaps = s.snapshots("ds")
	if len(snaps) != 3 || snaps[0].Reference != first {
		t.Fatalf("snapshots after retention (keep 2, one a VDB's): %+v", snaps)
	}
	if pd := snaps[0].Metadata.PolicyDriven; pd == nil || *pd {
		t.Errorf("the link's snapshot: %+v", snaps[0])
	}
	for _, sn := range snaps[1:] {
		if pd := sn.Metadata.PolicyDriven; pd == nil || !*pd || string(sn.Parameters) != "null" {
			t.Errorf("a policy snapshot: %+v %s", sn, sn.Parameters)
		}
	}
	if p := s.policy("dsource", "ds"); p.Every != "" || p.KeepSnapshots != 2 {
		t.Errorf("policy turned off: %+v", p)
	}
	if n := s.records(objectLine); n != 1 {
		t.Errorf("%d syncs got snapshot parameters, want the link's only", n)
	}

	// A refresh policy refreshes the VDB from the newest snapshot.
	s.must("vdb", "update", "vdb", "--refresh-every", "1s")
	var refreshJob string
	s.await("a policy refresh", func() bool {
		refreshJob = s.policy("vdb", "vdb").LastJob
		return refreshJob != ""
	})
	s.must("vdb", "update", "vdb", "--refresh-every", "0")
	s.must("job", "wait", refreshJob)
	var vdb struct {
		ParentSnapshot string `json:"parentSnapshot"`
	}
	r = s.must("job", "show", refreshJob, "-o", "json")
	if !strings.Contains(r.stdout, "The refresh policy of vdb (every 1s) runs this refresh") {
		t.Errorf("refresh job:\n%s", r.stdout)
	}
	var list []json.RawMessage
	json.Unmarshal([]byte(s.must("dsource", "list", "-o", "json").stdout), &list)
	for _, raw := range list {
		if strings.Contains(string(raw), `"name": "vdb"`) || strings.Contains(string(raw), `"name":"vdb"`) {
			json.Unmarshal(raw, &vdb)
		}
	}
	if vdb.ParentSnapshot == first || vdb.ParentSnapshot == "" {
		t.Errorf("the refreshed VDB's parent snapshot: %q (was %s)", vdb.ParentSnapshot, first)
	}
	s.must("vdb", "delete", "vdb")
	s.must("dsource", "delete", "ds")
}
