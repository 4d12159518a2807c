package pluginhost

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
)

type libResult struct {
	ExitCode  int             `json:"exitCode"`
	Stdout    string          `json:"stdout"`
	Stderr    string          `json:"stderr"`
	Error     string          `json:"error"`
	ErrorType string          `json:"errorType"`
	LibErrID  string          `json:"libErrId"`
	CredsType string          `json:"credsType"`
	Username  string          `json:"username"`
	Secret    string          `json:"secret"`
	Printed   string          `json:"printed"`
	Supplier  json.RawMessage `json:"supplier"`
}

// exercise runs library calls inside the staged plugin (its
// virtual.initialize runs the calls it is given and reports each result).
func exercise(t *testing.T, f *fixture, calls ...map[string]any) []libResult {
	t.Helper()
	var out struct{ Results []libResult }
	f.call(t, "virtual.initialize", map[string]any{
		"virtual_source": virtualSource(f, map[string]any{"calls": calls}),
		"repository":     map[string]string{},
	}, &out)
	if len(out.Results) != len(calls) {
		t.Fatalf("%d results for %d calls", len(out.Results), len(calls))
	}
	return out.Results
}

func TestRunBash(t *testing.T) {
	f := newFixture(t, "staged")
	r := exercise(t, f,
		map[string]any{"lib": "run_bash", "command": `echo "$V"; pwd; shopt -q login_shell && echo login || echo plain`, "variables": map[string]string{"V": "val ue"}},
		map[string]any{"lib": "run_bash", "command": `shopt -q login_shell && echo login || echo plain`, "login": true},
		map[string]any{"lib": "run_bash", "command": `echo out; echo err >&2; exit 3`},
		map[string]any{"lib": "run_bash", "command": `echo out; echo err >&2; exit 3`, "check": true},
		map[string]any{"lib": "run_bash", "command": `kill -9 $$`},
		map[string]any{"lib": "run_bash", "command": "true", "emptyConn": true},
		map[string]any{"lib": "run_bash", "command": "true", "noEngine": true},
	)
	if r[0].Stdout != "val ue\n"+f.dir+"\nplain\n" || r[0].ExitCode != 0 || r[0].Error != "" {
		t.Errorf("variables: %+v", r[0])
	}
	if r[1].Stdout != "login\n" {
		t.Errorf("login shell: %+v", r[1])
	}
	if r[2].ExitCode != 3 || r[2].Stdout != "out\n" || r[2].Stderr != "err\n" || r[2].Error != "" {
		t.Errorf("exit code without check: %+v", r[2])
	}
	if r[3].ExitCode != 3 || r[3].ErrorType != "*libs.PluginScriptError" ||
		r[3].Error != "The script failed with exit code 3. stdout : out\n and  stderr : err\n" {
		t.Errorf("check: %+v", r[3])
	}
	if r[4].ExitCode != 137 {
		t.Errorf("killed script: %+v", r[4])
	}
	if r[5].ErrorType != "*libs.ArgumentError" || !strings.HasPrefix(r[5].Error, "The function run_bash's argument 'remote_connection' has no environment reference") {
		t.Errorf("empty connection: %+v", r[5])
	}
	if r[6].Error != libs.ErrNoEngine.Error() {
		t.Errorf("no engine: %+v", r[6])
	}
}

func TestRunExpect(t *testing.T) {
	f := newFixture(t, "staged")
	r := exercise(t, f, map[string]any{"lib": "run_expect", "command": `puts "expect $env(V)"; exit 4`, "variables": map[string]string{"V": "val"}},
		map[string]any{"lib": "run_expect", "command": `exit 4`, "check": true})
	if _, err := exec.LookPath("expect"); err != nil {
		if r[0].LibErrID != LibErrUnsupported || r[0].Error != "run_expect is not supported on this host: expect is not installed. (unsupported)" {
			t.Fatalf("%+v", r[0])
		}
		t.Skip("expect is not installed: only the unsupported path was tested")
	}
	if r[0].Stdout != "expect val\n" || r[0].ExitCode != 4 || r[0].Error != "" {
		t.Fatalf("%+v", r[0])
	}
	if r[1].ErrorType != "*libs.PluginScriptError" || !strings.HasPrefix(r[1].Error, "The script failed with exit code 4.") {
		t.Fatalf("%+v", r[1])
	}
}

func TestRunPowershell(t *testing.T) {
	f := newFixture(t, "staged")
	r := exercise(t, f, map[string]any{"lib": "run_powershell", "command": `Write-Output "ps $env:V"; exit 5`, "variables": map[string]string{"V": "val"}},
		map[string]any{"lib": "run_powershell", "command": "x", "login": true})
	if r[1].ErrorType != "*libs.ArgumentError" || !strings.Contains(r[1].Error, "'use_login_shell' is not supported") {
		t.Errorf("login shell: %+v", r[1])
	}
	if _, err := exec.LookPath("pwsh"); err != nil {
		if r[0].ErrorType != "*libs.LibraryError" || r[0].LibErrID != LibErrUnsupported ||
			r[0].Error != "run_powershell is not supported on this host: PowerShell (pwsh) is not installed. (unsupported)" {
			t.Fatalf("%+v", r[0])
		}
		return
	}
	if r[0].Stdout != "ps val\n" || r[0].ExitCode != 5 {
		t.Fatalf("%+v", r[0])
	}
}

func TestRunSync(t *testing.T) {
	f := newFixture(t, "staged")
	src := filepath.Join(f.dir, "src")
	if err := os.MkdirAll(src+"/logs", 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(src+"/data.txt", []byte("d"), 0o644)
	os.WriteFile(src+"/logs/l.txt", []byte("l"), 0o644)
	r := exercise(t, f,
		map[string]any{"lib": "run_sync", "sourceDir": src, "exclude": []string{src + "/logs"}},
		map[string]any{"lib": "run_sync", "sourceDir": src, "username": "nobody-like-this"},
		map[string]any{"lib": "run_sync", "sourceDir": filepath.Join(f.dir, "missing")},
		map[string]any{"lib": "run_sync", "sourceDir": ""},
	)
	if _, err := exec.LookPath("rsync"); err != nil {
		if r[0].LibErrID != LibErrUnsupported {
			t.Fatalf("%+v", r[0])
		}
		t.Skip("rsync is not installed: only the unsupported path was tested")
	}
	if r[0].Error != "" {
		t.Fatalf("%+v", r[0])
	}
	if b, err := os.ReadFile(filepath.Join(f.libs.SyncDestination, "data.txt")); err != nil || string(b) != "d" {
		t.Fatalf("%q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(f.libs.SyncDestination, "logs")); !os.IsNotExist(err) {
		t.Fatal("an absolute excluded path was synced")
	}
	if r[1].LibErrID != LibErrUnsupported || !strings.Contains(r[1].Error, "cannot run rsync as the user 'nobody-like-this'") {
		t.Errorf("rsync user: %+v", r[1])
	}
	if r[2].LibErrID != LibErrFailed || !strings.HasPrefix(r[2].Error, "rsync failed") {
		t.Errorf("missing source: %+v", r[2])
	}
	if r[3].ErrorType != "*libs.ArgumentError" {
		t.Errorf("empty source: %+v", r[3])
	}
}

func TestRetrieveCredentials(t *testing.T) {
	f := newFixture(t, "staged")
	r := exercise(t, f,
		map[string]any{"lib": "retrieve_credentials", "supplier": map[string]string{"type": "NamedPasswordCredential", "username": "bob", "password": "s3cret"}},
		map[string]any{"lib": "retrieve_credentials", "supplier": map[string]string{"type": "NamedKeyPairCredential", "username": "amy", "privateKey": "PRIV", "publicKey": "PUB"}},
		map[string]any{"lib": "retrieve_credentials", "supplier": map[string]string{"type": "HashiCorpVaultCredential", "vault": "V-1"}},
		map[string]any{"lib": "retrieve_credentials", "supplier": []int{1}},
		map[string]any{"lib": "retrieve_credentials", "supplier": map[string]string{"type": "Sticky"}},
	)
	if r[0].CredsType != "password" || r[0].Username != "bob" || r[0].Secret != "s3cret" || strings.Contains(r[0].Printed, "s3cret") {
		t.Errorf("password: %+v", r[0])
	}
	if r[1].CredsType != "keypair" || r[1].Username != "amy" || r[1].Secret != "PRIV|PUB" || strings.Contains(r[1].Printed, "PRIV") {
		t.Errorf("key pair: %+v", r[1])
	}
	if r[2].LibErrID != LibErrUnsupported || !strings.Contains(r[2].Error, "cannot read a HashiCorpVaultCredential") {
		t.Errorf("vault: %+v", r[2])
	}
	if r[3].ErrorType != "*libs.ArgumentError" || !strings.Contains(r[3].Error, "is an array but should be a JSON object") {
		t.Errorf("not an object: %+v", r[3])
	}
	if r[4].LibErrID != LibErrCredentials {
		t.Errorf("unknown type: %+v", r[4])
	}
}

func TestUpgradePasswordOutsideMigration(t *testing.T) {
	f := newFixture(t, "staged")
	r := exercise(t, f, map[string]any{"lib": "upgrade_password", "password": "pw"})
	if r[0].LibErrID != LibErrNotAllowed || r[0].Error != "The platform library upgrade_password can only be used in a data migration. (not_allowed)" {
		t.Fatalf("%+v", r[0])
	}
	// The library itself, as a migration gets it.
	s, err := f.libs.UpgradePassword(context.Background(), "pw", "")
	if err != nil || string(s) != `{"password":"pw","type":"NamedPasswordCredential"}` {
		t.Fatalf("%s %v", s, err)
	}
}

func TestLogging(t *testing.T) {
	f := newFixture(t, "staged")
	exercise(t, f,
		map[string]any{"lib": "log", "level": "debug", "message": "d-msg"},
		map[string]any{"lib": "log", "level": "info", "message": "i-msg"},
		map[string]any{"lib": "log", "level": "warn", "message": "w-msg"},
		map[string]any{"lib": "log", "level": "error", "message": "e-msg"},
	)
	d, i, e := f.debug.String(), f.info.String(), f.errLog.String()
	for _, c := range []struct {
		log, msg string
		in       bool
	}{
		{d, "DEBUG [virtual.initialize] d-msg lib=log", true}, {i, "d-msg", false}, {e, "d-msg", false},
		{d, "INFO [virtual.initialize] i-msg lib=log", true}, {i, "INFO [virtual.initialize] i-msg", true}, {e, "i-msg", false},
		{d, "ERROR [virtual.initialize] w-msg", true}, {i, "ERROR [virtual.initialize] w-msg", true}, {e, "ERROR [virtual.initialize] w-msg", true},
		{e, "ERROR [virtual.initialize] e-msg lib=log", true},
	} {
		if strings.Contains(c.log, c.msg) != c.in {
			t.Errorf("%q in log = %v; logs:\ndebug:\n%s\ninfo:\n%s\nerror:\n%s", c.msg, !c.in, d, i, e)
		}
	}
}

// A recording Libraries checks what the host hands to the engine.
type recordingLibs struct {
	LocalLibraries
	conns []sdk.RemoteConnection
	reqs  []BashRequest
	calls []CallInfo
}

func (r *recordingLibs) RunBash(ctx context.Context, conn sdk.RemoteConnection, req BashRequest) (libs.RunResult, error) {
	ci, _ := CallInfoFrom(ctx)
	r.conns, r.reqs, r.calls = append(r.conns, conn), append(r.reqs, req), append(r.calls, ci)
	return libs.RunResult{Stdout: "hello|/x"}, nil
}

func TestLibrariesInterface(t *testing.T) {
	rec := &recordingLibs{}
	h, err := New(Options{Binary: pluginPath("staged"), Libraries: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	raw, err := h.Call(ctxTimeout(t, 30e9), "discovery.repository", map[string]any{"source_connection": connA})
	if err != nil || !strings.Contains(string(raw), `"path":"/x"`) {
		t.Fatalf("%s %v", raw, err)
	}
	if len(rec.reqs) != 1 || rec.conns[0] != connA || rec.reqs[0].Variables["DVP_GREETING"] != "hello" || rec.reqs[0].UseLoginShell ||
		rec.calls[0].Operation != "discovery.repository" || rec.calls[0].ID == "" {
		t.Fatalf("%+v %+v %+v", rec.conns, rec.reqs, rec.calls)
	}
}
