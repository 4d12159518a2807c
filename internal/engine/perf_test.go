package engine

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/engine/enginetest"
	"github.com/dvpkit/dvp/internal/zipfile"
)

// TestUpgradeUploadCommits counts the database commits (each an fsync of
// the write-ahead log) and all the fsyncs of a new plugin's upload and of
// an upgrade's, from the upload request to the end of its job
// (docs/engine.md, "Storage", writes and reads): the new plugin installs
// in one transaction with its action; the upgrade (no new migration)
// installs the build with its action, its job and the job's events in
// one transaction too. Each makes three fsyncs: the code's spool file,
// the blob directory it is renamed into, the commit.
func TestUpgradeUploadCommits(t *testing.T) {
	te := startEngine(t, "")
	c := te.client(t)
	c.login(testPassword)
	tok := c.token()
	before, syncs := te.store.Commits(), te.store.Fsyncs()
	if env := c.uploadWith(tok, enginetest.Bytes(enginetest.Options{BuildNumber: "1"})); env.Type != "OKResult" {
		t.Fatalf("upload: %+v", env)
	}
	if n := te.store.Commits() - before; n != 1 {
		t.Errorf("a new plugin's upload made %d commits, want 1", n)
	}
	if n := te.store.Fsyncs() - syncs; n > 3 {
		t.Errorf("a new plugin's upload made %d fsyncs, want at most 3", n)
	}
	tok = c.token()
	before, syncs = te.store.Commits(), te.store.Fsyncs()
	// New code (a changed file): a new blob is stored.
	env := c.uploadWith(tok, enginetest.Bytes(enginetest.Options{BuildNumber: "2", Extra: []zipfile.File{{Name: "src/changed.go", Data: []byte("package main\n")}}}))
	if env.Type != "OKResult" || env.Action == nil || env.Job == nil {
		t.Fatalf("upgrade: %+v", env)
	}
	state, events := c.waitJob(*env.Action)
	if state != "COMPLETED" {
		t.Fatalf("upgrade job %s: %v", state, events)
	}
	n, fsyncs := te.store.Commits()-before, te.store.Fsyncs()-syncs
	t.Logf("an upgrade upload made %d commits, %d fsyncs", n, fsyncs)
	if n > 3 {
		t.Errorf("an upgrade upload made %d commits, want at most 3", n)
	}
	if n != 1 {
		t.Errorf("an upgrade upload made %d commits, want 1", n)
	}
	if fsyncs > 3 {
		t.Errorf("an upgrade upload made %d fsyncs, want at most 3", fsyncs)
	}
	var codes []string
	for _, ev := range events {
		codes = append(codes, ev["messageCode"].(string))
	}
	if want := "event.toolkit.upgrade.started event.toolkit.upgrade.validated event.toolkit.upgrade.completed"; strings.Join(codes, " ") != want {
		t.Errorf("events %v, want %s", codes, want)
	}
	a := c.call("GET", "delphix/action/"+*env.Action, nil)
	var act struct{ State, EndTime string }
	if json.Unmarshal(a.Result, &act); act.State != "COMPLETED" || act.EndTime == "" {
		t.Errorf("action %s", a.Result)
	}
	if list := c.toolkits(); len(list) != 1 || list[0]["buildNumber"] != "2" {
		t.Errorf("toolkits %v", list)
	}
}

// TestListPaging pages through the installed plugins with pageSize and
// pageOffset: every page is the matching part of the whole list, byte for
// byte, with the total and whether more follow; no parameters is the
// whole list; bad parameters are refused with the reason.
func TestListPaging(t *testing.T) {
	te := startEngine(t, "")
	c := te.client(t)
	c.login(testPassword)
	const n = 12
	for i := 0; i < n; i++ {
		doc := enginetest.Bytes(enginetest.Options{ID: fmt.Sprintf("0f9e3c4a-7b21-4d2e-9a55-%012d", i), Name: fmt.Sprintf("plugin %d", i)})
		if env := c.upload(doc); env.Type != "OKResult" {
			t.Fatalf("upload %d: %+v", i, env)
		}
	}
	type list struct {
		Type     string            `json:"type"`
		Result   []json.RawMessage `json:"result"`
		Total    int               `json:"total"`
		Overflow bool              `json:"overflow"`
	}
	get := func(query string) (list, int) {
		resp, b := c.do("GET", "delphix/toolkit"+query, "application/json", nil)
		var l list
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatalf("%s: %s", query, b)
		}
		return l, resp.StatusCode
	}
	whole, _ := get("")
	if len(whole.Result) != n || whole.Total != n || whole.Overflow {
		t.Fatalf("whole list: %d items, total %d, overflow %v", len(whole.Result), whole.Total, whole.Overflow)
	}
	for _, tc := range []struct {
		query      string
		from, to   int
		overflowed bool
	}{
		{"?pageSize=5", 0, 5, true},
		{"?pageSize=5&pageOffset=0", 0, 5, true},
		{"?pageSize=5&pageOffset=1", 5, 10, true},
		{"?pageSize=5&pageOffset=2", 10, 12, false},
		{"?pageSize=5&pageOffset=3", 12, 12, false},
		{"?pageSize=12", 0, 12, false},
		{"?pageSize=0", 0, 12, false},
		{"?pageOffset=0", 0, 12, false},
	} {
		l, code := get(tc.query)
		if code != http.StatusOK || l.Type != "ListResult" || l.Total != n || l.Overflow != tc.overflowed || len(l.Result) != tc.to-tc.from {
			t.Errorf("%s: %d %s, %d items, total %d, overflow %v", tc.query, code, l.Type, len(l.Result), l.Total, l.Overflow)
			continue
		}
		for i, it := range l.Result {
			if string(it) != string(whole.Result[tc.from+i]) {
				t.Errorf("%s: item %d differs from the whole list's %d", tc.query, i, tc.from+i)
			}
		}
	}
	// A change shows in the next list: the lists keep no stale plugin.
	var first struct{ Reference string }
	json.Unmarshal(whole.Result[0], &first)
	if env := c.call("POST", "delphix/toolkit/"+first.Reference+"/delete", nil); env.Type != "OKResult" {
		t.Fatalf("delete: %+v", env)
	}
	if l, _ := get(""); l.Total != n-1 || len(l.Result) != n-1 {
		t.Errorf("after a delete: %d items, total %d", len(l.Result), l.Total)
	}
	if env := c.upload(enginetest.Bytes(enginetest.Options{ID: "0f9e3c4a-7b21-4d2e-9a55-000000000001", Name: "plugin 1", BuildNumber: "2"})); env.Type != "OKResult" {
		t.Fatalf("upgrade: %+v", env)
	} else if state, _ := c.waitJob(*env.Action); state != "COMPLETED" {
		t.Fatalf("upgrade: %s", state)
	}
	if l, _ := get("?pageSize=5"); l.Total != n-1 || len(l.Result) != 5 || !strings.Contains(string(l.Result[0]), `"buildNumber":"2"`) {
		t.Errorf("after a delete and an upgrade: total %d, first %s", l.Total, l.Result[0])
	}
	for _, q := range []string{"?pageSize=-1", "?pageSize=x", "?pageOffset=1", "?pageSize=5&pageOffset=1e3", "?pageSize=99999999"} {
		env := c.call("GET", "delphix/toolkit"+q, nil)
		if env.code != http.StatusBadRequest || env.Type != "ErrorResult" || !strings.Contains(env.Error.Details, "page") || env.Error.Action == "" {
			t.Errorf("%s: %d %+v", q, env.code, env)
		}
	}
}
