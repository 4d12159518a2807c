package plugintest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/plugintest"
	"github.com/dvpkit/dvp/sdk/runtime"
)

// params stands for a generated LinkedSourceDefinition: its decoding
// requires host.
type params struct {
	Host string `json:"host"`
}

func (p *params) UnmarshalJSON(b []byte) error {
	type plain params
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	if q.Host == "" {
		return errors.New("/host: the property is required")
	}
	*p = params(q)
	return nil
}

type empty struct{}

type linkedIn struct {
	StagedSource       sdk.StagedSource[params] `json:"staged_source"`
	Repository         empty                    `json:"repository"`
	SourceConfig       empty                    `json:"source_config"`
	SnapshotParameters *struct {
		Resync bool `json:"resync"`
	} `json:"snapshot_parameters"`
}

// testPlugin is a small STAGED plugin registered by hand, as generated code
// registers one.
func testPlugin(preSnapshot func(ctx context.Context, in linkedIn) error) *runtime.Plugin {
	return &runtime.Plugin{
		Type: runtime.Staged,
		Operations: map[string]runtime.Handler{
			"linked.pre_snapshot": runtime.Adapt(func(ctx context.Context, in linkedIn) (any, error) {
				return nil, preSnapshot(ctx, in)
			}),
			"linked.mount_specification": runtime.Adapt(func(ctx context.Context, in struct {
				StagedSource sdk.StagedSource[params] `json:"staged_source"`
				Repository   empty                    `json:"repository"`
			}) (sdk.MountSpecification, error) {
				return sdk.MountSpecification{Mounts: []sdk.Mount{{RemoteEnvironment: in.StagedSource.StagedConnection.Environment, MountPath: ""}}}, nil
			}),
			"linked.status": runtime.Adapt(func(ctx context.Context, in struct {
				StagedSource sdk.StagedSource[params] `json:"staged_source"`
				Repository   empty                    `json:"repository"`
				SourceConfig empty                    `json:"source_config"`
			}) (sdk.Status, error) {
				return sdk.StatusInactive, nil
			}),
		},
	}
}

func rsync(ctx context.Context, in linkedIn) error {
	slog.InfoContext(ctx, "copying", "host", in.StagedSource.Parameters.Host)
	res, err := libs.RunBash(ctx, in.StagedSource.StagedConnection, "rsync -r "+in.StagedSource.Parameters.Host+":/data "+in.StagedSource.Mount.MountPath,
		libs.Variables(map[string]string{"X": "1"}))
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return sdk.UserError{Message: "Could not copy files.\n" + res.Stderr, Action: "Check SSH."}
	}
	return nil
}

func TestScriptedRunBashAndCallRecord(t *testing.T) {
	pt := plugintest.New(t, testPlugin(rsync))
	rule := pt.OnRunBash(plugintest.CommandContains("rsync -r"), libs.RunResult{ExitCode: 0})
	err := pt.Run("linked.pre_snapshot", plugintest.In{
		StagedSource: plugintest.StagedSource(params{Host: "db1"}),
		Repository:   empty{}, SourceConfig: empty{},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := pt.Calls()
	if len(calls) != 1 || rule.Used() != 1 {
		t.Fatalf("calls %+v, rule used %d", calls, rule.Used())
	}
	c := calls[0]
	want := "rsync -r db1:/data " + plugintest.StagedMountPath
	if c.Method != "run_bash" || c.Command != want || c.Operation != "linked.pre_snapshot" ||
		c.Connection.Environment != plugintest.Connection("staging").Environment || c.Variables["X"] != "1" {
		t.Errorf("call %+v; want run_bash %q on the staging environment", c, want)
	}
	logs := pt.Logs()
	if len(logs) != 1 || logs[0].Level != "INFO" || logs[0].Message != "copying host=db1" || logs[0].Operation != "linked.pre_snapshot" {
		t.Errorf("logs %+v", logs)
	}
}

func TestUserErrorFromFailedScript(t *testing.T) {
	pt := plugintest.New(t, testPlugin(rsync))
	pt.OnRunBash(plugintest.AnyCall(), libs.RunResult{ExitCode: 23, Stderr: "Permission denied"})
	err := pt.Run("linked.pre_snapshot", plugintest.In{
		StagedSource: plugintest.StagedSource(params{Host: "db1"}), Repository: empty{}, SourceConfig: empty{},
	}, nil)
	ue := plugintest.WantUserError(t, err, "Could not copy files.", "Permission denied")
	if ue.Action != "Check SSH." {
		t.Errorf("action %q", ue.Action)
	}
}

func TestRulesInOrderWithTimesAndFailures(t *testing.T) {
	var results []string
	pt := plugintest.New(t, testPlugin(func(ctx context.Context, in linkedIn) error {
		for i := 0; i < 3; i++ {
			res, err := libs.RunBash(ctx, in.StagedSource.StagedConnection, "probe")
			var le *libs.LibraryError
			switch {
			case errors.As(err, &le):
				results = append(results, "error "+le.ID+": "+le.Message)
			case err != nil:
				return err
			default:
				results = append(results, res.Stdout)
			}
		}
		return nil
	}))
	pt.OnRunBash(plugintest.Command("probe"), libs.RunResult{Stdout: "first"}).Times(1)
	pt.OnRunBash(plugintest.CommandMatches(`^pro`), libs.RunResult{Stdout: "second"}).Times(1)
	pt.OnRunBash(plugintest.AnyCall(), libs.RunResult{}).Fails("unreachable", "The host cannot be reached.")
	if err := pt.Run("linked.pre_snapshot", plugintest.In{
		StagedSource: plugintest.StagedSource(params{Host: "h"}), Repository: empty{}, SourceConfig: empty{},
	}, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"first", "second", "error unreachable: The host cannot be reached."}
	if fmt.Sprint(results) != fmt.Sprint(want) {
		t.Errorf("results %q, want %q", results, want)
	}
}

// recorder records Errorf calls instead of failing the test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestUnexpectedCallFailsTheTestAndTheCall(t *testing.T) {
	rec := &recorder{TB: t}
	var got error
	pt := plugintest.New(rec, testPlugin(func(ctx context.Context, in linkedIn) error {
		got = libs.RunSync(ctx, in.StagedSource.SourceConnection, "/data", "", nil, nil)
		return got
	}))
	err := pt.Run("linked.pre_snapshot", plugintest.In{
		StagedSource: plugintest.StagedSource(params{Host: "h"}), Repository: empty{}, SourceConfig: empty{},
	}, nil)
	var le *libs.LibraryError
	if !errors.As(got, &le) || le.ID != plugintest.ErrUnexpectedCall {
		t.Errorf("RunSync returned %v; want a LibraryError %s", got, plugintest.ErrUnexpectedCall)
	}
	var oe *plugintest.OperationError
	if !errors.As(err, &oe) || oe.Kind != "plugin" {
		t.Errorf("the operation returned %v; want a plugin error", err)
	}
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], `unexpected run_sync call in linked.pre_snapshot(): source directory "/data"`) ||
		!strings.Contains(rec.errors[0], "OnRunSync") {
		t.Errorf("test errors %q", rec.errors)
	}
}

func TestRuntimePathsApply(t *testing.T) {
	pt := plugintest.New(t, testPlugin(func(ctx context.Context, in linkedIn) error {
		var hosts []string
		_ = hosts[len(in.StagedSource.Parameters.Host)] // out of range: panics
		return nil
	}))
	in := plugintest.In{StagedSource: plugintest.StagedSource(params{Host: "h"}), Repository: empty{}, SourceConfig: empty{}}

	// A panic becomes an error with the stack.
	err := pt.Run("linked.pre_snapshot", in, nil)
	var oe *plugintest.OperationError
	if !errors.As(err, &oe) || oe.Kind != "panic" || !strings.Contains(oe.Message, "index out of range") || oe.Output == "" {
		t.Errorf("panic: %#v", err)
	}
	if _, ok := plugintest.AsUserError(err); ok {
		t.Error("a panic is not a user error")
	}

	// The input is decoded by the plugin's types: a missing required
	// property is a bad input.
	bad := in
	bad.StagedSource = plugintest.StagedSource(params{})
	err = pt.Run("linked.pre_snapshot", bad, nil)
	if !errors.As(err, &oe) || oe.Kind != "bad_input" || !strings.Contains(oe.Message, "/host: the property is required") {
		t.Errorf("bad input: %v", err)
	}

	// The result is checked as the engine checks it.
	err = pt.Run("linked.mount_specification", plugintest.In{StagedSource: in.StagedSource, Repository: empty{}}, nil)
	if !errors.As(err, &oe) || oe.Kind != "bad_output" || !strings.Contains(oe.Message, "has an empty mount path") {
		t.Errorf("empty mount path: %v", err)
	}

	// An operation the plugin does not implement.
	err = pt.Run("linked.worker", plugintest.In{StagedSource: in.StagedSource, Repository: empty{}, SourceConfig: empty{}}, nil)
	if !errors.As(err, &oe) || oe.Kind != "not_implemented" {
		t.Errorf("worker: %v", err)
	}

	status, err := plugintest.Result[sdk.Status](pt, "linked.status", plugintest.In{StagedSource: in.StagedSource, Repository: empty{}, SourceConfig: empty{}})
	if err != nil || status != sdk.StatusInactive {
		t.Errorf("status %v, %v", status, err)
	}
}

func TestCredentialsAndContext(t *testing.T) {
	pt := plugintest.New(t, testPlugin(rsync))
	supplier := json.RawMessage(`{"type":"NamedPasswordCredential","password":"x"}`)
	pt.OnRetrieveCredentials(nil, sdk.KeyPairCredentials{Username: "u", PrivateKey: "k"})
	creds, err := libs.RetrieveCredentials(pt.Context(), libs.RawSupplier(supplier))
	if err != nil {
		t.Fatal(err)
	}
	if kp, ok := creds.(sdk.KeyPairCredentials); !ok || kp.Username != "u" || kp.PrivateKey != "k" {
		t.Errorf("credentials %v", creds)
	}
	calls := pt.CallsTo("retrieve_credentials")
	if len(calls) != 1 || string(calls[0].CredentialsSupplier) != string(supplier) {
		t.Errorf("calls %+v", calls)
	}
}

// newHost stands for the type generated from the new schema.
type newHost struct {
	Address  string          `json:"address"`
	Password json.RawMessage `json:"password"`
}

func (h newHost) Validate() error {
	if h.Address == "" {
		return errors.New("/address: the property is required")
	}
	return nil
}

func TestMigrate(t *testing.T) {
	p := testPlugin(rsync)
	p.Migrations = []runtime.Migration{
		{Kind: "repository", ID: "2", Name: "renameHost", Func: runtime.MigrationFunc(func(ctx context.Context, old map[string]any) (map[string]any, error) {
			old["address"] = old["host"]
			delete(old, "host")
			return old, nil
		})},
		{Kind: "repository", ID: "3", Name: "upgradePassword", Func: runtime.MigrationFunc(func(ctx context.Context, old map[string]any) (map[string]any, error) {
			s, err := libs.UpgradePassword(ctx, old["password"].(string), "")
			old["password"] = s
			return old, err
		})},
		{Kind: "snapshot", ID: "4", Name: "runsBash", Func: runtime.MigrationFunc(func(ctx context.Context, old map[string]any) (map[string]any, error) {
			_, err := libs.RunBash(ctx, plugintest.Connection("x"), "true")
			return old, err
		})},
	}
	pt := plugintest.New(t, p)
	got, err := plugintest.Migrate[newHost](pt, "repository", map[string]any{"host": "db1", "password": "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Address != "db1" || string(got.Password) != `{"password":"secret","type":"NamedPasswordCredential"}` {
		t.Errorf("migrated %+v", got)
	}
	// Only migration 3 applies: the host stays, the new schema rejects it.
	_, err = plugintest.Migrate[newHost](pt, "repository", map[string]any{"host": "db1", "password": "secret"}, "3")
	if err == nil || !strings.Contains(err.Error(), "does not satisfy the new schema: /host: property is not allowed") {
		t.Errorf("partial chain: %v", err)
	}
	// The engine's rule: no RunBash in a migration.
	_, err = plugintest.Migrate[map[string]any](pt, "snapshot", map[string]any{})
	var oe *plugintest.OperationError
	if !errors.As(err, &oe) || !strings.Contains(oe.Message, "run_bash cannot be used in a data migration") {
		t.Errorf("run_bash in a migration: %v", err)
	}
}
