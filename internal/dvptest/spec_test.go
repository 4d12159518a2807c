package dvptest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeSpec(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), DefaultFile)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func lookupOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const goodSpec = `
environments:
  staging: {local: true, os_user: postgres}
  source:
    host: 127.0.0.1
    port: ${PORT}
    user: me
    key: id_ed25519
    known_hosts: /etc/kh
source_configs:
  data:
    environment: source
    repository: Repo
    parameters: {name: data, path: "${SRC}", n: 3, list: [a, 1]}
scenarios:
  - name: lifecycle
    steps:
      - link: {name: ds1, source_config: data, environment: staging, parameters: {mountLocation: /mnt/x}}
        check:
          - snapshots: {of: ds1, count: 1}
      - sync: ds1
        setup: {environment: source, run: "echo v2 > $$HOME/a"}
      - resync: {dsource: ds1, parameters: {}}
      - provision: {name: vdb1, snapshot: {of: ds1, index: 1}, environment: staging}
        check:
          - file: {of: vdb1, path: a.txt, contains: "version 1"}
          - file: {of: vdb1, path: b.txt, absent: true}
          - status: {of: vdb1, runtime: ACTIVE, enabled: true}
          - log: {contains: "configuring"}
          - shell: {environment: source, run: "cat /x", output: "^v2", exit: 0}
      - refresh: {vdb: vdb1, snapshot: ds1}
      - rollback: vdb1
      - snapshot: vdb1
      - stop: vdb1
      - start: vdb1
      - disable: vdb1
      - enable: vdb1
      - upgrade: {artifact: other.json}
      - discover: staging
      - sync: ds1
        expect: {failure: "ssh"}
        timeout: 90s
      - delete: vdb1
        check: [status: {of: vdb1, deleted: true}]
      - delete: ds1
`

func TestLoadGoodSpec(t *testing.T) {
	p := writeSpec(t, goodSpec)
	s, err := Load(p, lookupOf(map[string]string{"PORT": "2222", "SRC": "/srv/data"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Environments) != 2 || !s.Environments[0].Local || s.Environments[0].OSUser != "postgres" || s.Environments[1].Port != 2222 || s.Environments[1].OSUser != "" {
		t.Fatalf("environments: %+v %+v", s.Environments[0], s.Environments[1])
	}
	if got := s.Environments[1].Key; got != filepath.Join(filepath.Dir(p), "id_ed25519") {
		t.Errorf("the key path is not relative to the spec: %s", got)
	}
	var params map[string]any
	if err := json.Unmarshal(s.SourceConfigs[0].Parameters, &params); err != nil {
		t.Fatal(err)
	}
	if params["path"] != "/srv/data" || params["n"] != float64(3) {
		t.Errorf("parameters: %v", params)
	}
	steps := s.Scenarios[0].Steps
	if len(steps) != 16 {
		t.Fatalf("%d steps", len(steps))
	}
	if steps[1].Setup[0].Run != "echo v2 > $HOME/a" {
		t.Errorf("$$ is not a $: %q", steps[1].Setup[0].Run)
	}
	if steps[3].Snapshot.Of != "ds1" || steps[3].Snapshot.Index != 1 || steps[4].Snapshot.Index != -1 {
		t.Errorf("snapshot refs: %+v %+v", steps[3].Snapshot, steps[4].Snapshot)
	}
	if len(steps[3].Checks) != 5 || steps[3].Checks[3].LogFile != "debug.log" {
		t.Errorf("checks: %+v", steps[3].Checks)
	}
	if st := steps[13]; !st.ExpectFail || st.FailPattern.String() != "ssh" || st.Timeout.Seconds() != 90 {
		t.Errorf("expectation: %+v", st)
	}
	if steps[1].Label != "sync ds1" || steps[12].Label != "discover staging" {
		t.Errorf("labels: %q %q", steps[1].Label, steps[12].Label)
	}
}

// Each mistake is reported at its line and column, all at once.
func TestLoadReportsLocatedMistakes(t *testing.T) {
	spec := `environments:
  staging: {local: true}
  far: {host: h}
source_configs:
  data: {environment: nowhere, parameters: {name: x}}
scenarios:
  - name: s
    steps:
      - lnk: {name: ds1}
      - link: {source_config: data}
      - sync: ds9
      - provision: {name: v, snapshot: {of: ds1, index: 0}, environment: staging, colour: red}
      - refresh: v
        check:
          - snapshots: {of: v, count: many}
          - smell: {of: v}
      - delete: v
        expect: maybe
        timeout: soon
      - start: ${NOPE}
`
	p := writeSpec(t, spec)
	_, err := Load(p, lookupOf(nil))
	se, ok := err.(*SpecError)
	if !ok {
		t.Fatalf("not a SpecError: %v", err)
	}
	text := se.Error()
	want := []string{
		":3:8: environment far: give local: true, or host, user and key",
		":5:23: source config data: no environment is named \"nowhere\"",
		":9:9: scenario s, step 1: unknown step \"lnk\"",
		":10:15: scenario s, step 2: link: the key \"name\" is missing",
		":11:15: scenario s, step 3: sync: no earlier step of this scenario makes \"ds9\"",
		":12:57: scenario s, step 4: provision.snapshot.index must not be 0",
		":12:83: scenario s, step 4: provision: unknown key \"colour\"",
		":15:39: scenario s, step 5, check 1: snapshots.count must be a whole number, not \"many\"",
		":16:13: scenario s, step 5: unknown check \"smell\"",
		":18:17: scenario s, step 6: expect must be success or failure, not \"maybe\"",
		":19:18: scenario s, step 6.timeout must be a positive duration",
		":20:16: the variable NOPE is not set",
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in:\n%s", w, text)
		}
	}
	if strings.Contains(text, "has no action") {
		t.Errorf("an unknown step is also reported as a step without action:\n%s", text)
	}
	for _, pr := range se.Problems {
		if pr.Line == 0 || pr.Column == 0 || pr.File != p {
			t.Errorf("not located: %+v", pr)
		}
	}
}

func TestLoadWrongTypesAndShapes(t *testing.T) {
	cases := map[string]struct{ spec, want string }{
		"not yaml":         {"scenarios: [\n", "is not valid YAML"},
		"empty":            {"", "the spec is empty"},
		"no scenarios":     {"environments: {s: {local: true}}\n", "the spec has no scenarios"},
		"scenarios a map":  {"environments: {s: {local: true}}\nscenarios: {a: 1}\n", ":2:12: scenarios must be a list, not a mapping"},
		"two actions":      {"environments: {s: {local: true}}\nscenarios:\n  - name: a\n    steps:\n      - discover: s\n        sync: x\n", "has two actions, discover and sync"},
		"params a string":  {"environments: {s: {local: true}}\nsource_configs: {d: {environment: s, parameters: x}}\nscenarios: [{name: a, steps: [discover: s]}]\n", "source config d.parameters must be a mapping"},
		"os_user on ssh":   {"environments: {s: {host: h, user: u, key: k, os_user: pg}}\nscenarios: [{name: a, steps: [discover: s]}]\n", "environment s: os_user goes with local: true"},
		"port not number":  {"environments: {s: {host: h, user: u, key: k, port: [1]}}\nscenarios: [{name: a, steps: [discover: s]}]\n", "environment s.port must be a number, not a list"},
		"vdb op on ds":     {"environments: {s: {local: true}}\nsource_configs: {d: {environment: s, parameters: {}}}\nscenarios: [{name: a, steps: [{link: {name: x, source_config: d}}, start: x]}]\n", "start works on a VDB, and \"x\" is a dSource"},
		"bad pattern":      {"environments: {s: {local: true}}\nscenarios: [{name: a, steps: [{discover: s, expect: {failure: \"(\"}}]}]\n", "is not a valid pattern"},
		"duplicate names":  {"environments: {s: {local: true}}\nscenarios: [{name: a, steps: [discover: s]}, {name: a, steps: [discover: s]}]\n", "two scenarios are named \"a\""},
		"upgrade neither":  {"environments: {s: {local: true}}\nscenarios: [{name: a, steps: [upgrade: {}]}]\n", "upgrade needs one of artifact or plugin_config"},
		"unknown top key":  {"environments: {s: {local: true}}\nscenario: []\nscenarios: [{name: a, steps: [discover: s]}]\n", ":2:1: the spec: unknown key \"scenario\""},
		"file check shape": {"environments: {s: {local: true}}\nsource_configs: {d: {environment: s, parameters: {}}}\nscenarios: [{name: a, steps: [{link: {name: x, source_config: d}, check: [file: {of: x, path: a}]}]}]\n", "needs exists: true, absent: true or contains: TEXT"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeSpec(t, c.spec), lookupOf(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want %q, got %v", c.want, err)
			}
		})
	}
}

// The starter spec dvp init writes is a valid spec for both plugin types.
func TestStarterTemplateIsValid(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "templates", "dvptest.yml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, staged := range []string{"{{- if .Staged}}", "{{- end}}"} {
		if !strings.Contains(string(b), staged) {
			t.Fatalf("the template changed shape: no %q", staged)
		}
	}
	text := strings.NewReplacer("{{- if .Staged}}\n", "", "{{- end}}\n", "").Replace(string(b))
	s, err := Load(writeSpec(t, text), lookupOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Scenarios) != 1 || len(s.Scenarios[0].Steps) < 6 {
		t.Fatalf("starter: %+v", s.Scenarios)
	}
}
