//go:build e2e

package e2e

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	goCachesOnce sync.Once
	goCaches     []string
)

// goCacheEnv keeps the go command's caches when HOME changes, so that
// building a plugin in a test does not start from a cold cache.
func goCacheEnv(t *testing.T) []string {
	goCachesOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
		if err != nil {
			return
		}
		for i, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
			if v := strings.Split(strings.TrimSpace(string(out)), "\n"); i < len(v) {
				goCaches = append(goCaches, k+"="+v[i])
			}
		}
	})
	return goCaches
}

// TestPluginSecretsNeverLeak runs testdata/plugins/secret-leaker — a
// plugin that logs, prints, echoes, returns and quotes every secret it is
// given — through the whole CLI at -vvv: build, upload, a local
// environment, a source config whose API token is given inline on the
// command line, a dSource linked with a password and a credentials
// supplier (from a file) and synced, lists and statuses in text and JSON,
// a VDB, a VDB whose configure fails quoting its password, a link refused
// by validation with the password in the wrong type, download-logs. Then
// no output, debug log, engine file (database included), plugin log or
// bundle may hold any of the secrets, in any form; and the secrets did
// reach the plugin (the snapshot shows the user the credentials named).
func TestPluginSecretsNeverLeak(t *testing.T) {
	const (
		admin        = "Engine-Admin-pw-1357"
		dbPassword   = "Db-Pässword-\"q\"-2468"
		credPassword = "Cred-Secret-Ω-97531"
		apiToken     = "Api-Token-8642-xyz"
		vdbPassword  = "Vdb-Admin-pw-11223"
		vdbFailPw    = "Vdb-Fail-pw-44556"
		wrongType    = "31415926535897"
	)
	root := t.TempDir()
	engineHome, clientHome, data, logsDir, tmp := filepath.Join(root, "engine-home"), filepath.Join(root, "client-home"),
		filepath.Join(root, "data"), filepath.Join(root, "bundles"), filepath.Join(root, "tmp")
	for _, d := range []string{engineHome, clientHome, logsDir, tmp} {
		os.MkdirAll(d, 0o755)
	}
	// The plugin mounts under TMPDIR: inside this test's directory.
	e := startEngineHome(t, data, engineHome, admin, "TMPDIR="+tmp)
	rec := &recorder{t: t, home: clientHome, env: append([]string{"DVP_PASSWORD=" + admin}, goCacheEnv(t)...)}
	eng := []string{"-vvv", "-e", e.url, "-u", "admin"}
	must := func(what string, args ...string) result {
		t.Helper()
		r := rec.run("", nil, args...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", what, r.code, r.stdout, r.stderr)
		}
		return r
	}

	project := filepath.Join(root, "plugin")
	if err := os.CopyFS(project, os.DirFS(filepath.Join("..", "..", "..", "testdata", "plugins", "secret-leaker"))); err != nil {
		t.Fatal(err)
	}
	artifactPath := filepath.Join(root, "artifact.json")
	must("build", "build", "-vvv", "-c", filepath.Join(project, "plugin_config.yml"), "-a", artifactPath)
	must("upload", append(append([]string{"upload"}, eng...), "-a", artifactPath, "--wait")...)
	must("environment", append(append([]string{"environment", "add", "here"}, eng...), "--local")...)
	must("source config", append(append([]string{"source-config", "add", "sc1"}, eng...), "--environment", "here", "--repository", "leaker-repo",
		"--params", `{"name": "sc1", "apiToken": "`+apiToken+`"}`)...)

	linkParams := filepath.Join(root, "link.json")
	b, _ := json.Marshal(map[string]any{"dbPassword": dbPassword,
		"credentials": map[string]any{"type": "NamedPasswordCredential", "username": "leaker-user", "password": credPassword}})
	os.WriteFile(linkParams, b, 0o600)
	// Refused: the password in the wrong type; the message must not quote it.
	r := rec.run("", nil, append(append([]string{"dsource", "link", "bad"}, eng...), "--source-config", "sc1",
		"--params", `{"dbPassword": `+wrongType+`, "credentials": {"type": "NamedPasswordCredential", "password": "`+credPassword+`"}}`)...)
	if r.code != 1 || !strings.Contains(r.stderr, "/dbPassword") {
		t.Errorf("a link with a password of the wrong type: exit %d\n%s", r.code, r.stderr)
	}
	must("link", append(append([]string{"dsource", "link", "ds"}, eng...), "--source-config", "sc1", "--params", "@"+linkParams)...)
	must("sync", append([]string{"dsource", "sync", "ds"}, eng...)...)
	for _, list := range [][]string{{"dsource", "list"}, {"source-config", "list"}, {"snapshot", "list", "ds"}, {"environment", "list"}} {
		must(strings.Join(list, " "), append(list, eng...)...)
		must(strings.Join(list, " ")+" -o json", append(append(list, eng...), "-o", "json")...)
	}
	snaps := must("snapshots", append([]string{"snapshot", "list", "ds", "-o", "json"}, eng...)...)
	var list []map[string]any
	if err := json.Unmarshal([]byte(snaps.stdout), &list); err != nil || len(list) < 2 {
		t.Fatalf("snapshots: %v\n%s", err, snaps.stdout)
	}
	meta, _ := list[0]["metadata"].(map[string]any)
	if meta["user"] != "leaker" || meta["sessionKey"] != "********" {
		t.Errorf("snapshot metadata (the secret masked): %v", meta)
	}
	snap := list[0]["reference"].(string)
	must("provision", append(append([]string{"vdb", "provision", "vdb"}, eng...), "--snapshot", snap, "--environment", "here",
		"--params", `{"adminPassword": "`+vdbPassword+`"}`)...)
	must("vdb status", append([]string{"vdb", "status", "vdb"}, eng...)...)
	r = rec.run("", nil, append(append([]string{"vdb", "provision", "vdb2"}, eng...), "--snapshot", snap, "--environment", "here",
		"--params", `{"adminPassword": "`+vdbFailPw+`", "fail": true}`)...)
	if r.code != 1 || !strings.Contains(r.stderr, "cannot configure with admin password ******") {
		t.Errorf("a failing configure: exit %d\n%s", r.code, r.stderr)
	}
	must("download-logs", append(append([]string{"download-logs"}, eng...), "-c", filepath.Join(project, "plugin_config.yml"), "-d", logsDir)...)

	// The plugin did write its careless lines (masked): the test checks
	// something real.
	bundles, _ := filepath.Glob(filepath.Join(logsDir, "*.tar.gz"))
	if len(bundles) != 1 {
		t.Fatalf("bundles: %v", bundles)
	}
	pluginLogs := readBundle(t, bundles[0])
	all := strings.Join(mapValues(pluginLogs), "\n")
	for _, want := range []string{"careless: db password ******", "stdout: ******", "stderr: ******", "bash said bash out: ******"} {
		if !strings.Contains(all, want) {
			t.Errorf("the plugin's logs lack %q:\n%s", want, all)
		}
	}
	e.stop()
	rec.outputs = append(rec.outputs, "engine output:\n"+e.out.String())
	checkNoSecrets(t, []string{engineHome, clientHome, data, logsDir, tmp}, rec.outputs,
		admin, dbPassword, credPassword, apiToken, vdbPassword, vdbFailPw, wrongType)
}

// readBundle returns the files of a log bundle by name.
func readBundle(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return out
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = string(b)
	}
}

func mapKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
