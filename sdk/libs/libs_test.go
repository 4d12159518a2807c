package libs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/internal/engine"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// fakeEngine records requests and answers them with a function.
type fakeEngine struct {
	methods []string
	params  []json.RawMessage
	answer  func(method string, params json.RawMessage) (any, error)
}

func (f *fakeEngine) Call(ctx context.Context, method string, params, result any) error {
	raw, err := json.Marshal(params)
	if err != nil {
		return err
	}
	f.methods = append(f.methods, method)
	f.params = append(f.params, raw)
	res, err := f.answer(method, raw)
	if err != nil {
		return err
	}
	if result != nil {
		b, _ := json.Marshal(res)
		return json.Unmarshal(b, result)
	}
	return nil
}

var conn = sdk.RemoteConnection{Environment: sdk.RemoteEnvironment{Name: "e", Reference: "UNIX_HOST_ENVIRONMENT-1"}, User: sdk.RemoteUser{Name: "u"}}

func withEngine(f *fakeEngine) context.Context { return engine.With(context.Background(), f) }

func TestRunBashRequestAndCheck(t *testing.T) {
	f := &fakeEngine{answer: func(string, json.RawMessage) (any, error) {
		return protocol.RunResult{ExitCode: 3, Stdout: "out", Stderr: "err"}, nil
	}}
	ctx := withEngine(f)
	res, err := RunBash(ctx, conn, "exit 3", Variables(map[string]string{"A": "1"}), Variables(map[string]string{"B": "2"}), UseLoginShell())
	if err != nil || res.ExitCode != 3 {
		t.Fatalf("without check: %+v %v", res, err)
	}
	var p protocol.RunBashParams
	if err := json.Unmarshal(f.params[0], &p); err != nil {
		t.Fatal(err)
	}
	if f.methods[0] != "run_bash" || p.Command != "exit 3" || !p.UseLoginShell || p.Variables["A"] != "1" || p.Variables["B"] != "2" ||
		p.Connection.Environment.Reference != "UNIX_HOST_ENVIRONMENT-1" {
		t.Fatalf("request %s %s", f.methods[0], f.params[0])
	}

	res, err = RunBash(ctx, conn, "exit 3", Check())
	var se *PluginScriptError
	if !errors.As(err, &se) || res.Stdout != "out" {
		t.Fatalf("with check: %+v %v", res, err)
	}
	want := "The script failed with exit code 3. stdout : out and  stderr : err"
	if err.Error() != want {
		t.Fatalf("got  %q\nwant %q", err.Error(), want)
	}
	for _, run := range []func(context.Context, sdk.RemoteConnection, string, ...RunOption) (RunResult, error){RunPowershell, RunExpect} {
		if _, err := run(ctx, conn, "x", Check()); !errors.As(err, &se) {
			t.Fatalf("check on %v", err)
		}
	}
	if f.methods[len(f.methods)-2] != "run_powershell" || f.methods[len(f.methods)-1] != "run_expect" {
		t.Fatal(f.methods)
	}
}

func TestLibraryErrorFromEngine(t *testing.T) {
	f := &fakeEngine{answer: func(string, json.RawMessage) (any, error) {
		return nil, &protocol.ErrorBody{Kind: protocol.KindLibrary, ID: "exception.host.unreachable", Message: "host down"}
	}}
	_, err := RunBash(withEngine(f), conn, "true", Check())
	var le *LibraryError
	if !errors.As(err, &le) || le.ID != "exception.host.unreachable" || le.Message != "host down" {
		t.Fatalf("%T %v", err, err)
	}
	if err := RunSync(withEngine(f), conn, "/data", "", nil, nil); !errors.As(err, &le) {
		t.Fatalf("run_sync: %v", err)
	}
}

func TestArgumentChecks(t *testing.T) {
	f := &fakeEngine{answer: func(string, json.RawMessage) (any, error) { return nil, nil }}
	ctx := withEngine(f)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"empty connection", func() error { _, err := RunBash(ctx, sdk.RemoteConnection{}, "true"); return err }(),
			"The function run_bash's argument 'remote_connection' has no environment reference"},
		{"variable name", func() error {
			_, err := RunBash(ctx, conn, "true", Variables(map[string]string{"A=B": "x"}))
			return err
		}(), "The function run_bash's argument 'variables' has the name 'A=B'"},
		{"NUL in command", func() error { _, err := RunExpect(ctx, conn, "a\x00b"); return err }(),
			"The function run_expect's argument 'command' contains a NUL character."},
		{"invalid UTF-8 value", func() error {
			_, err := RunPowershell(ctx, conn, "x", Variables(map[string]string{"V": "\xff"}))
			return err
		}(), "The function run_powershell's argument 'variables' has a value for 'V' that is not valid UTF-8."},
		{"login shell on powershell", func() error { _, err := RunPowershell(ctx, conn, "x", UseLoginShell()); return err }(),
			"The function run_powershell's argument 'use_login_shell' is not supported"},
		{"sync without directory", RunSync(ctx, conn, "", "", nil, nil),
			"The function run_sync's argument 'source_directory' is empty"},
		{"sync empty exclude", RunSync(ctx, conn, "/d", "", []string{""}, nil),
			"The function run_sync's argument 'exclude_paths' contains an empty path."},
		{"supplier nil", func() error { _, err := RetrieveCredentials(ctx, nil); return err }(),
			"The function retrieve_credentials's argument 'credentials_supplier' is nil"},
		{"supplier not object", func() error { _, err := RetrieveCredentials(ctx, RawSupplier(`"x"`)); return err }(),
			"The function retrieve_credentials's argument 'credentials_supplier' is a string but should be a JSON object"},
	}
	for _, c := range cases {
		var ae *ArgumentError
		if !errors.As(c.err, &ae) || !strings.HasPrefix(c.err.Error(), c.want) {
			t.Errorf("%s: %v, want prefix %q", c.name, c.err, c.want)
		}
	}
	if len(f.methods) != 0 {
		t.Fatalf("invalid calls reached the engine: %v", f.methods)
	}
}

func TestNoEngine(t *testing.T) {
	if _, err := RunBash(context.Background(), conn, "true"); !errors.Is(err, ErrNoEngine) {
		t.Fatal(err)
	}
	if _, err := UpgradePassword(context.Background(), "p", ""); !errors.Is(err, ErrNoEngine) {
		t.Fatal(err)
	}
}

func TestRetrieveCredentialsTypes(t *testing.T) {
	var answer protocol.CredentialsResult
	f := &fakeEngine{answer: func(m string, p json.RawMessage) (any, error) { return answer, nil }}
	ctx := withEngine(f)
	supplier := RawSupplier(`{"type":"NamedPasswordCredential","password":"p"}`)

	answer = protocol.CredentialsResult{Username: "bob", Password: "pw"}
	c, err := RetrieveCredentials(ctx, supplier)
	if pc, ok := c.(sdk.PasswordCredentials); err != nil || !ok || pc.Password != "pw" || pc.Username != "bob" {
		t.Fatalf("%#v %v", c, err)
	}
	answer = protocol.CredentialsResult{Username: "amy", PublicKey: "ssh-rsa"}
	c, err = RetrieveCredentials(ctx, supplier)
	if kc, ok := c.(sdk.KeyPairCredentials); err != nil || !ok || kc.PublicKey != "ssh-rsa" {
		t.Fatalf("%#v %v", c, err)
	}
	var p protocol.RetrieveCredentialsParams
	_ = json.Unmarshal(f.params[0], &p)
	if string(p.CredentialsSupplier) != string(supplier) {
		t.Fatalf("supplier sent as %s", p.CredentialsSupplier)
	}
}

func TestUpgradePassword(t *testing.T) {
	f := &fakeEngine{answer: func(m string, p json.RawMessage) (any, error) {
		return protocol.UpgradePasswordResult{CredentialsSupplier: json.RawMessage(`{"type":"NamedPasswordCredential","password":"x"}`)}, nil
	}}
	s, err := UpgradePassword(withEngine(f), "x", "")
	if err != nil || !strings.Contains(string(s), "NamedPasswordCredential") || string(f.params[0]) != `{"password":"x"}` {
		t.Fatalf("%s %v %s", s, err, f.params[0])
	}
}

func TestLogHandler(t *testing.T) {
	f := &fakeEngine{answer: func(string, json.RawMessage) (any, error) { return nil, nil }}
	ctx := withEngine(f)
	logger := slog.New(NewHandler(&slog.HandlerOptions{Level: slog.LevelDebug - 4})).With("plugin", "p").WithGroup("op")
	logger.DebugContext(ctx, "d", "k", "v w")
	logger.InfoContext(ctx, "i", slog.Group("g", "n", 1))
	logger.WarnContext(ctx, "w")
	logger.ErrorContext(ctx, "e", "creds", sdk.PasswordCredentials{Username: "u", Password: "secret"})
	logger.Log(ctx, slog.LevelDebug-4, "trace")
	want := []protocol.LogParams{
		{Level: "DEBUG", Message: `d plugin=p op.k="v w"`},
		{Level: "INFO", Message: "i plugin=p op.g.n=1"},
		{Level: "ERROR", Message: "w plugin=p"},
		{Level: "ERROR", Message: "e plugin=p op.creds.username=u op.creds.password=******"},
		{Level: "DEBUG", Message: "trace plugin=p"},
	}
	if len(f.params) != len(want) {
		t.Fatalf("%d records", len(f.params))
	}
	for i, raw := range f.params {
		var got protocol.LogParams
		_ = json.Unmarshal(raw, &got)
		if got != want[i] || f.methods[i] != "log" {
			t.Errorf("record %d = %+v, want %+v", i, got, want[i])
		}
	}
	info := slog.New(NewHandler(nil))
	info.DebugContext(ctx, "dropped")
	if len(f.params) != len(want) {
		t.Fatal("a debug record passed an info handler")
	}
	// Without a context, records use the process default.
	engine.SetDefault(f)
	defer engine.SetDefault(nil)
	info.Info("background")
	if !strings.Contains(string(f.params[len(f.params)-1]), "background") {
		t.Fatal("no record through the default caller")
	}
}
