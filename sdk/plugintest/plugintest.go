// Package plugintest runs a plugin's operations in a unit test, in-process,
// against a fake platform: the plugin's own "go test" calls its operations
// with typed inputs, scripts what the platform libraries answer, and checks
// the results, the library calls the plugin made and the records it logged.
//
// An operation runs through the same runtime code as when an engine calls
// it (runtime.Invoke): the plugin's registrations are checked, the input is
// encoded to JSON and decoded by the generated code (so the schema's rules
// apply), a panic becomes an error, and the result is checked as the engine
// checks it. Library calls travel to the fake platform as JSON, as they
// travel to an engine.
//
// A test of the seed plugin's pre-snapshot:
//
//	func TestPreSnapshotCopiesWithRsync(t *testing.T) {
//		pt := plugintest.New(t, plugin.Runtime())
//		pt.OnRunBash(plugintest.CommandContains("rsync -r"), libs.RunResult{ExitCode: 0})
//
//		params := generated.LinkedSourceDefinition{
//			SourceAddress: "db.example.com", Username: "delphix", MountLocation: "/mnt/provision/stage"}
//		src := plugintest.StagedSource(params, plugintest.Mount(plugintest.Connection("staging"), "/mnt/provision/stage"))
//		err := pt.Run("linked.pre_snapshot", plugintest.In{
//			StagedSource: src,
//			Repository:   generated.RepositoryDefinition{},
//			SourceConfig: generated.SourceConfigDefinition{Name: "data", Path: "/var/data"},
//		}, nil)
//		if err != nil {
//			t.Fatal(err)
//		}
//		got := pt.Calls()[0].Command
//		if got != "rsync -r delphix@db.example.com:/var/data /mnt/provision/stage" {
//			t.Errorf("rsync command %q", got)
//		}
//	}
//
// A library call that no rule matches fails the test (t.Errorf) and fails
// the call, so the operation sees an error as it would from an engine.
// upgrade_password is the exception: unless scripted, it answers what the
// local engine answers (a NamedPasswordCredential supplier).
//
// Records the plugin logs with log/slog and the operation's context are
// captured (Logs): New makes slog's default logger the SDK's handler, as the
// runtime does when it serves an engine.
package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/internal/engine"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/protocol"
	"github.com/dvpkit/dvp/sdk/runtime"
	"github.com/dvpkit/dvp/sdk/types"
)

// Platform is a fake engine for one test: it runs the plugin's operations
// and answers their library calls from scripted rules.
type Platform struct {
	t      testing.TB
	plugin *runtime.Plugin

	mu    sync.Mutex
	rules []*Rule
	calls []Call
	logs  []LogRecord
}

var installLogging sync.Once

// New returns a fake platform for the plugin, as generated code builds it
// (plugin.Runtime()). It fails the test at once when the plugin's
// registrations are invalid.
func New(t testing.TB, p *runtime.Plugin) *Platform {
	t.Helper()
	if p == nil {
		t.Fatal("plugintest.New: the plugin is nil; pass plugin.Runtime()")
	}
	if problems := p.Problems(); len(problems) > 0 {
		t.Fatalf("plugintest.New: the plugin cannot serve an engine: %v", problems)
	}
	installLogging.Do(func() {
		slog.SetDefault(slog.New(libs.NewHandler(&slog.HandlerOptions{Level: slog.LevelDebug})))
	})
	return &Platform{t: t, plugin: p}
}

// In holds the inputs of an operation, as Go values (the types generated
// from schema.json and the sdk types; see the helpers StagedSource,
// DirectSource, VirtualSource and Connection). Run sends the fields the
// operation takes and ignores the others; a field the operation takes must
// be set, except SnapshotParameters (nil is a policy-driven sync).
type In struct {
	// SourceConnection is the input of the discovery operations.
	SourceConnection *sdk.RemoteConnection
	// DirectSource is an sdk.DirectSource[generated.LinkedSourceDefinition]
	// (linked operations of a DIRECT plugin).
	DirectSource any
	// StagedSource is an sdk.StagedSource[generated.LinkedSourceDefinition]
	// (linked operations of a STAGED plugin).
	StagedSource any
	// VirtualSource is an sdk.VirtualSource[generated.VirtualSourceDefinition]
	// (virtual operations).
	VirtualSource      any
	Repository         any
	SourceConfig       any
	Snapshot           any
	SnapshotParameters any
}

// Run runs the operation op ("linked.pre_snapshot", "virtual.configure",
// ...) with the inputs in and decodes its result into out (a pointer to the
// operation's result type, for example *generated.SnapshotDefinition,
// *[]generated.RepositoryDefinition, *sdk.MountSpecification, *sdk.Status or
// *int64; nil to ignore it), with types.Unmarshal: a struct of the test's own
// must spell the result's names exactly. A failed operation returns an
// *OperationError (see AsUserError).
func (p *Platform) Run(op string, in In, out any) error {
	p.t.Helper()
	input, err := p.input(op, in)
	if err != nil {
		p.t.Fatalf("plugintest: %v", err)
	}
	return p.RunJSON(op, input, out)
}

// RunJSON is Run with the operation's input given as JSON (the wire form,
// see docs/runtime-protocol.md), for testing what the plugin does with an
// input the Go types cannot express.
func (p *Platform) RunJSON(op string, input json.RawMessage, out any) error {
	p.t.Helper()
	raw, err := runtime.Invoke(p.context(op), p.plugin, op, input)
	if err != nil {
		var body *protocol.ErrorBody
		if errors.As(err, &body) {
			return &OperationError{Operation: op, Kind: body.Kind, Message: body.Message, Action: body.Action, Output: body.Output}
		}
		return err
	}
	if out != nil {
		if err := types.Unmarshal(raw, out); err != nil {
			p.t.Fatalf("plugintest: the result of %s() (%s) does not decode into %T: %v", op, abbreviate(raw), out, err)
		}
	}
	return nil
}

// Result runs an operation with Run and returns its result as a T.
func Result[T any](p *Platform, op string, in In) (T, error) {
	p.t.Helper()
	var out T
	err := p.Run(op, in, &out)
	return out, err
}

// Context returns a context whose library calls go to this platform, as
// those of an operation do: to unit-test a helper function that takes the
// operation's context. It ends with the test.
func (p *Platform) Context() context.Context {
	return p.context("")
}

func (p *Platform) context(op string) context.Context {
	var parent context.Context = context.Background()
	if tc, ok := p.t.(interface{ Context() context.Context }); ok {
		parent = tc.Context()
	}
	return engine.With(parent, &caller{p: p, op: op})
}

// input builds the JSON input object of op from in.
func (p *Platform) input(op string, in In) (json.RawMessage, error) {
	spec, ok := protocol.LookupOperation(op)
	if !ok {
		return nil, fmt.Errorf("'%s' is not a plugin operation (upgrade: use Migrate)", op)
	}
	if !spec.Supports(p.plugin.Type) {
		return nil, fmt.Errorf("the operation %s() does not exist for %s plugins", op, p.plugin.Type)
	}
	fields := map[string]any{}
	for _, arg := range spec.Args(p.plugin.Type) {
		var v any
		var field string
		switch arg {
		case "source_connection":
			field = "SourceConnection"
			if in.SourceConnection != nil {
				v = *in.SourceConnection
			}
		case "direct_source":
			v, field = in.DirectSource, "DirectSource"
		case "staged_source":
			v, field = in.StagedSource, "StagedSource"
		case "virtual_source":
			v, field = in.VirtualSource, "VirtualSource"
		case "repository":
			v, field = in.Repository, "Repository"
		case "source_config":
			v, field = in.SourceConfig, "SourceConfig"
		case "snapshot":
			v, field = in.Snapshot, "Snapshot"
		case "snapshot_parameters":
			v, field = in.SnapshotParameters, "SnapshotParameters"
		default:
			return nil, fmt.Errorf("the operation %s() takes '%s', which plugintest does not know", op, arg)
		}
		if v == nil && arg != "snapshot_parameters" {
			return nil, fmt.Errorf("the operation %s() of a %s plugin takes %s: set In.%s", op, p.plugin.Type, arg, field)
		}
		fields[arg] = v
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("the input of %s() does not encode to JSON: %v", op, err)
	}
	return b, nil
}

func abbreviate(raw []byte) string {
	s := string(raw)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
