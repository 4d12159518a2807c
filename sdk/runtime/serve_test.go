package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// testEngine drives Serve in-process over pipes.
type testEngine struct {
	t      *testing.T
	w      *protocol.Writer
	r      *protocol.Reader
	toPlug io.Closer
	served chan error
	hello  *protocol.Message
	seq    int
	// answer handles library requests; nil answers null.
	answer func(m *protocol.Message) (any, *protocol.ErrorBody)
}

func startEngine(t *testing.T, p *Plugin, versions ...int) *testEngine {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	e := &testEngine{t: t, w: protocol.NewWriter(inW, 0), r: protocol.NewReader(outR, 0), toPlug: inW, served: make(chan error, 1)}
	go func() {
		err := Serve(context.Background(), p, inR, outW)
		outW.Close()
		e.served <- err
	}()
	if versions == nil {
		versions = []int{protocol.Version}
	}
	e.send(&protocol.Message{Type: protocol.TypeHello, Versions: versions})
	e.hello = e.read()
	t.Cleanup(func() {
		inW.Close()
		go io.Copy(io.Discard, outR)
		select {
		case <-e.served:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return e
}

func (e *testEngine) send(m *protocol.Message) {
	e.t.Helper()
	if err := e.w.Write(m); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEngine) read() *protocol.Message {
	e.t.Helper()
	type res struct {
		m   *protocol.Message
		err error
	}
	ch := make(chan res, 1)
	go func() { m, err := e.r.Read(); ch <- res{m, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			e.t.Fatalf("reading from the plugin: %v", r.err)
		}
		return r.m
	case <-time.After(10 * time.Second):
		e.t.Fatal("the plugin did not answer")
	}
	return nil
}

func (e *testEngine) start(op string, input any) string {
	e.t.Helper()
	e.seq++
	id := fmt.Sprintf("c%d", e.seq)
	raw, ok := input.(json.RawMessage)
	if !ok {
		raw, _ = json.Marshal(input)
	}
	e.send(&protocol.Message{Type: protocol.TypeCall, ID: id, Operation: op, Input: raw})
	return id
}

// wait answers requests until the answer of call id arrives.
func (e *testEngine) wait(id string) *protocol.Message {
	e.t.Helper()
	for {
		m := e.read()
		switch m.Type {
		case protocol.TypeRequest:
			var res any
			var body *protocol.ErrorBody
			if e.answer != nil {
				res, body = e.answer(m)
			}
			raw, _ := json.Marshal(res)
			e.send(&protocol.Message{Type: protocol.TypeResponse, ID: m.ID, Result: raw, Error: body})
		case protocol.TypeResult, protocol.TypeError:
			if m.ID != id {
				e.t.Fatalf("answer for %q while waiting for %q: %+v", m.ID, id, m)
			}
			return m
		default:
			e.t.Fatalf("unexpected %+v", m)
		}
	}
}

func (e *testEngine) call(op string, input any) *protocol.Message {
	e.t.Helper()
	return e.wait(e.start(op, input))
}

func wantResult(t *testing.T, m *protocol.Message, want string) {
	t.Helper()
	if m.Type != protocol.TypeResult || string(m.Output) != want {
		t.Fatalf("got %s %s %+v, want result %s", m.Type, m.Output, m.Error, want)
	}
}

func wantError(t *testing.T, m *protocol.Message, kind, msgPrefix string) *protocol.ErrorBody {
	t.Helper()
	if m.Type != protocol.TypeError || m.Error == nil || m.Error.Kind != kind || !strings.HasPrefix(m.Error.Message, msgPrefix) {
		t.Fatalf("got %s %s %+v\nwant error %s %q", m.Type, m.Output, m.Error, kind, msgPrefix)
	}
	return m.Error
}

func returns(v any, err error) Handler {
	return func(context.Context, json.RawMessage) (any, error) { return v, err }
}

var testConn = sdk.RemoteConnection{Environment: sdk.RemoteEnvironment{Name: "env", Reference: "UNIX_HOST_ENVIRONMENT-7"}}

func TestHandshake(t *testing.T) {
	p := &Plugin{Type: Staged, Operations: map[string]Handler{"linked.status": returns(sdk.StatusActive, nil), "virtual.status": returns(sdk.StatusActive, nil)}}
	e := startEngine(t, p)
	h := e.hello
	if h.Type != protocol.TypeHello || h.Version != 1 || h.PluginType != "STAGED" || h.SDKVersion != sdk.Version ||
		strings.Join(h.Operations, ",") != "linked.status,virtual.status" {
		t.Fatalf("%+v", h)
	}

	e2 := startEngine(t, p, 2, 3)
	wantError(t, e2.hello, protocol.KindProtocol, "this plugin speaks protocol version 1; the engine offered [2 3]")
	if err := <-e2.served; err == nil {
		t.Fatal("Serve accepted a version it does not speak")
	}
	e2.served <- nil

	bad := &Plugin{Type: Direct, Operations: map[string]Handler{"linked.worker": returns(nil, nil)}}
	e3 := startEngine(t, bad)
	wantError(t, e3.hello, protocol.KindInvalidPlugin, "The plugin's registrations are invalid:\n  The operation linked.worker() is not supported for DIRECT plugins.")
	<-e3.served
	e3.served <- nil
}

func TestUnknownAndMissingOperations(t *testing.T) {
	e := startEngine(t, &Plugin{Type: Staged, Operations: map[string]Handler{"linked.status": returns(sdk.StatusInactive, nil)}})
	wantError(t, e.call("linked.nope", nil), protocol.KindUnknownOperation, "'linked.nope' is not a plugin operation.")
	wantError(t, e.call("virtual.status", map[string]any{}), protocol.KindNotImplemented, "An implementation for the virtual.status() operation has not been defined.")
	wantResult(t, e.call("linked.status", map[string]any{}), `"INACTIVE"`)
	// An unknown message type is refused, and the session goes on.
	e.send(&protocol.Message{Type: "telepathy", ID: "x"})
	wantError(t, e.read(), protocol.KindProtocol, `the plugin does not accept "telepathy" messages`)
	wantResult(t, e.call("linked.status", map[string]any{}), `"INACTIVE"`)
}

func TestInputTooLarge(t *testing.T) {
	e := startEngine(t, &Plugin{Type: Staged, Operations: map[string]Handler{"virtual.configure": returns(map[string]int{"a": 1}, nil)}})
	big := map[string]string{"blob": strings.Repeat("b", protocol.MaxOperationPayload)}
	wantError(t, e.call("virtual.configure", big), protocol.KindTooLarge, "The input of the virtual.configure() operation is 4194315 bytes, over the 4194304-byte (4 MiB) limit")
	wantResult(t, e.call("virtual.configure", map[string]any{}), `{"a":1}`)
}

func TestOutputChecks(t *testing.T) {
	mount := sdk.Mount{RemoteEnvironment: testConn.Environment, MountPath: "/mnt/a"}
	shared := mount
	shared.SharedPath = "/sub"
	var nilSpec *sdk.MountSpecification
	tests := []struct {
		name, op string
		ptype    string
		out      any
		want     string // result JSON, or "kind: message prefix"
	}{
		{"nil list", "discovery.repository", Staged, []map[string]any(nil), `[]`},
		{"list", "discovery.source_config", Staged, []map[string]any{{"a": 1}}, `[{"a":1}]`},
		{"list of strings", "discovery.repository", Staged, []string{"x"},
			"bad_output: The returned object for the discovery.repository() operation was a list whose element 0 is a string (Go type []string) but should be a list of RepositoryDefinition objects."},
		{"object not list", "discovery.repository", Staged, map[string]any{},
			"bad_output: The returned object for the discovery.repository() operation was an object"},
		{"unencodable", "discovery.repository", Staged, make(chan int), "bad_output: The returned object for the discovery.repository() operation (Go type chan int) cannot be encoded to JSON"},
		{"object", "linked.post_snapshot", Staged, struct{}{}, `{}`},
		{"nil object", "virtual.configure", Staged, (*struct{})(nil),
			"bad_output: The returned object for the virtual.configure() operation was null (Go type *struct {}) but should be a SourceConfigDefinition object."},
		{"string for object", "virtual.reconfigure", Direct, "x", "bad_output: The returned object for the virtual.reconfigure() operation was a string"},
		{"status", "virtual.status", Staged, sdk.StatusActive, `"ACTIVE"`},
		{"status int", "linked.status", Staged, 1, `"INACTIVE"`},
		{"bad status", "linked.status", Staged, sdk.Status(9), "bad_output: The returned object for the linked.status() operation (Go type sdk.Status) cannot be encoded"},
		{"size", "linked.source_size", Direct, int64(1) << 40, `1099511627776`},
		{"size float", "virtual.source_size", Staged, 12.0, `12`},
		{"size negative", "virtual.source_size", Staged, -1, "bad_output: The returned object for the virtual.source_size() operation was the number -1"},
		{"size fraction", "virtual.source_size", Staged, 1.5, "bad_output: "},
		{"size string", "linked.source_size", Staged, "12", "bad_output: "},
		{"void", "linked.pre_snapshot", Staged, "ignored", `null`},
		{"staged 0 mounts", "linked.mount_specification", Staged, sdk.MountSpecification{},
			"bad_output: Mount must be provided for staging sources. Found 0 mounts."},
		{"staged shared", "linked.mount_specification", Staged, &sdk.MountSpecification{Mounts: []sdk.Mount{shared}},
			"bad_output: Shared path is not supported for linked sources."},
		{"staged nil spec", "linked.mount_specification", Staged, nilSpec,
			"bad_output: The returned object for the linked.mount_specification() operation was null (Go type *sdk.MountSpecification) but should be an sdk.MountSpecification."},
		{"staged two mounts", "linked.mount_specification", Staged, sdk.MountSpecification{Mounts: []sdk.Mount{mount, shared}, OwnershipSpecification: &sdk.OwnershipSpecification{UID: 1, GID: 2}},
			`{"mounts":[{"remote_environment":{"name":"env","reference":"UNIX_HOST_ENVIRONMENT-7","host":{"name":"","reference":"","binary_path":"","scratch_path":""}},"mount_path":"/mnt/a"},{"remote_environment":{"name":"env","reference":"UNIX_HOST_ENVIRONMENT-7","host":{"name":"","reference":"","binary_path":"","scratch_path":""}},"mount_path":"/mnt/a","shared_path":"/sub"}],"ownership_specification":{"uid":1,"gid":2}}`},
		{"virtual shared single", "virtual.mount_specification", Staged, sdk.MountSpecification{Mounts: []sdk.Mount{shared}}, ""},
		{"virtual no env", "virtual.mount_specification", Direct, sdk.MountSpecification{Mounts: []sdk.Mount{{MountPath: "/m"}}},
			"bad_output: Mount 1 of the mount specification (mount path '/m') has no remote environment"},
		{"wrong struct as spec", "virtual.mount_specification", Direct, map[string]any{"path": "/x"},
			"bad_output: The returned object for the virtual.mount_specification() operation was an object that is not a mount specification"},
		{"too large", "virtual.configure", Staged, map[string]string{"x": strings.Repeat("x", 4<<20)},
			"too_large: The output of the virtual.configure() operation is 4194312 bytes, over the 4194304-byte (4 MiB) limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startEngine(t, &Plugin{Type: tc.ptype, Operations: map[string]Handler{tc.op: returns(tc.out, nil)}})
			m := e.call(tc.op, map[string]any{})
			if kind, msg, isErr := strings.Cut(tc.want, ": "); isErr && !strings.HasPrefix(tc.want, "{") {
				wantError(t, m, kind, msg)
			} else if tc.want != "" {
				wantResult(t, m, tc.want)
			} else if m.Type != protocol.TypeResult {
				t.Fatalf("%+v", m.Error)
			}
		})
	}
}

func TestOperationErrors(t *testing.T) {
	ue := &sdk.UserError{Message: "Could not copy.", Action: "Check SSH.", Output: "rsync: permission denied"}
	e := startEngine(t, &Plugin{Type: Staged, Operations: map[string]Handler{
		"linked.worker":        returns(nil, ue),
		"linked.start_staging": returns(nil, fmt.Errorf("while starting: %w", sdk.UserError{Message: "value error"})),
		"linked.stop_staging":  returns(nil, errors.New("plain failure")),
		"linked.pre_snapshot": func(context.Context, json.RawMessage) (any, error) {
			var p *sdk.Mount
			return p.MountPath, nil
		},
		"virtual.start": func(context.Context, json.RawMessage) (any, error) {
			goruntime.Goexit()
			return nil, nil
		},
		"virtual.stop":  returns(nil, &sdk.UserError{Message: strings.Repeat("m", 200<<10)}),
		"linked.status": returns(sdk.StatusActive, nil),
	}})
	b := wantError(t, e.call("linked.worker", nil), protocol.KindUser, "Could not copy.")
	if b.Action != "Check SSH." || b.Output != "rsync: permission denied" {
		t.Fatalf("%+v", b)
	}
	wantError(t, e.call("linked.start_staging", nil), protocol.KindUser, "value error")
	wantError(t, e.call("linked.stop_staging", nil), protocol.KindPlugin, "plain failure")
	b = wantError(t, e.call("linked.pre_snapshot", nil), protocol.KindPanic, "The plugin panicked in the linked.pre_snapshot() operation: runtime error: invalid memory address or nil pointer dereference")
	if !strings.Contains(b.Output, "goroutine") {
		t.Fatalf("no stack: %q", b.Output)
	}
	wantError(t, e.call("virtual.start", nil), protocol.KindPlugin, "The virtual.start() operation stopped without returning (runtime.Goexit was called).")
	b = wantError(t, e.call("virtual.stop", nil), protocol.KindUser, "mmm")
	if raw, _ := json.Marshal(b); len(raw) > protocol.MaxErrorPayload || !strings.HasSuffix(b.Message, "[truncated]") {
		t.Fatalf("error body of %d bytes", len(raw))
	}
	wantResult(t, e.call("linked.status", nil), `"ACTIVE"`)
}

func TestCancellation(t *testing.T) {
	started := make(chan struct{}, 4)
	waitCtx := func(ctx context.Context, _ json.RawMessage) (any, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	e := startEngine(t, &Plugin{Type: Staged, Operations: map[string]Handler{
		"linked.worker":  waitCtx,
		"virtual.status": returns(sdk.StatusActive, nil),
		"linked.pre_snapshot": func(ctx context.Context, _ json.RawMessage) (any, error) {
			_, err := libs.RunBash(ctx, testConn, "sleep 100")
			return nil, err
		},
	}})
	// A cancel with a reason.
	id := e.start("linked.worker", nil)
	<-started
	// Another call runs meanwhile.
	wantResult(t, e.call("virtual.status", nil), `"ACTIVE"`)
	e.send(&protocol.Message{Type: protocol.TypeCancel, ID: id, Reason: "the user stopped the job"})
	wantError(t, e.wait(id), protocol.KindCancelled, "The linked.worker() operation was cancelled: the user stopped the job.")

	// A timeout given with the call.
	e.seq++
	e.send(&protocol.Message{Type: protocol.TypeCall, ID: "t1", Operation: "linked.worker", TimeoutMS: 50})
	<-started
	wantError(t, e.wait("t1"), protocol.KindCancelled, "The linked.worker() operation was cancelled: the operation's 50ms timeout passed.")

	// A cancel while the operation waits for a library call.
	id = e.start("linked.pre_snapshot", nil)
	req := e.read()
	if req.Type != protocol.TypeRequest || req.Method != "run_bash" || req.Call != id {
		t.Fatalf("%+v", req)
	}
	e.send(&protocol.Message{Type: protocol.TypeCancel, ID: id, Reason: "deadline"})
	wantError(t, e.wait(id), protocol.KindCancelled, "The linked.pre_snapshot() operation was cancelled: deadline.")
	// The late response to the abandoned request is ignored.
	e.send(&protocol.Message{Type: protocol.TypeResponse, ID: req.ID, Result: json.RawMessage(`{"exit_code":0}`)})
	wantResult(t, e.call("virtual.status", nil), `"ACTIVE"`)
}

func TestChannelClosedCancelsCalls(t *testing.T) {
	done := make(chan error, 1)
	e := startEngine(t, &Plugin{Type: Staged, Operations: map[string]Handler{
		"linked.worker": func(ctx context.Context, _ json.RawMessage) (any, error) {
			<-ctx.Done()
			done <- context.Cause(ctx)
			return nil, ctx.Err()
		},
	}})
	e.start("linked.worker", nil)
	e.toPlug.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrChannelClosed) {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the operation was not cancelled")
	}
}

func TestLibraryRequests(t *testing.T) {
	type in struct {
		SourceConnection sdk.RemoteConnection `json:"source_connection"`
	}
	e := startEngine(t, &Plugin{Type: Direct, Operations: map[string]Handler{
		"discovery.repository": Adapt(func(ctx context.Context, in in) ([]map[string]string, error) {
			slog.InfoContext(ctx, "discovering", "env", in.SourceConnection.Environment.Name)
			res, err := libs.RunBash(ctx, in.SourceConnection, "echo hi", libs.Variables(map[string]string{"X": "1"}))
			if err != nil {
				return nil, err
			}
			_, err = libs.RunExpect(ctx, in.SourceConnection, "exit 1", libs.Check())
			return []map[string]string{{"out": res.Stdout, "err": err.Error()}}, nil
		}),
	}})
	prev := slog.Default()
	slog.SetDefault(slog.New(libs.NewHandler(nil))) // as Main does
	defer slog.SetDefault(prev)
	var seen []string
	e.answer = func(m *protocol.Message) (any, *protocol.ErrorBody) {
		seen = append(seen, m.Method+" "+string(m.Params)+" call="+m.Call)
		switch m.Method {
		case "run_bash":
			return protocol.RunResult{Stdout: "hi\n"}, nil
		case "run_expect":
			return protocol.RunResult{ExitCode: 1, Stderr: "boom"}, nil
		}
		return nil, nil
	}
	id := e.start("discovery.repository", in{SourceConnection: testConn})
	wantResult(t, e.wait(id), `[{"err":"The script failed with exit code 1. stdout :  and  stderr : boom","out":"hi\n"}]`)
	want := []string{
		`log {"level":"INFO","message":"discovering env=env"} call=` + id,
		`run_bash {"remote_connection":{"environment":{"name":"env","reference":"UNIX_HOST_ENVIRONMENT-7","host":{"name":"","reference":"","binary_path":"","scratch_path":""}},"user":{"name":"","reference":""}},"command":"echo hi","variables":{"X":"1"}} call=` + id,
		`run_expect {"remote_connection":{"environment":{"name":"env","reference":"UNIX_HOST_ENVIRONMENT-7","host":{"name":"","reference":"","binary_path":"","scratch_path":""}},"user":{"name":"","reference":""}},"command":"exit 1"} call=` + id,
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

func TestDecodeInput(t *testing.T) {
	type params struct {
		Port int `json:"port"`
	}
	type in struct {
		StagedSource       sdk.StagedSource[params] `json:"staged_source"`
		Repository         map[string]any           `json:"repository"`
		SnapshotParameters *params                  `json:"snapshot_parameters"`
		Optional           string                   `json:"optional,omitempty"`
	}
	var got in
	h := Adapt(func(_ context.Context, v in) (any, error) { got = v; return nil, nil })
	e := startEngine(t, &Plugin{Type: Staged, Operations: map[string]Handler{"linked.pre_snapshot": h}})

	conn := `{"environment":{"name":"e","reference":"UNIX_HOST_ENVIRONMENT-1","host":{"name":"h","reference":"UNIX_HOST-1","binary_path":"","scratch_path":""}},"user":{"name":"u","reference":"HOST_USER-1"}}`
	connections := `"source_connection":` + conn + `,"staged_connection":` + conn
	wantResult(t, e.call("linked.pre_snapshot", json.RawMessage(`{"staged_source":{"guid":"g",`+connections+`,"parameters":{"port":5}},"repository":{},"snapshot_parameters":null}`)), "null")
	if got.StagedSource.GUID != "g" || got.StagedSource.Parameters.Port != 5 || got.SnapshotParameters != nil {
		t.Fatalf("%+v", got)
	}
	wantError(t, e.call("linked.pre_snapshot", json.RawMessage(`{"staged_source":{},"snapshot_parameters":null}`)), protocol.KindBadInput,
		"The input of the linked.pre_snapshot() operation is invalid: the input has no 'repository' field")
	wantError(t, e.call("linked.pre_snapshot", json.RawMessage(`{"staged_source":{"guid":"g",`+connections+`,"parameters":{"port":"x"}},"repository":{},"snapshot_parameters":null}`)), protocol.KindBadInput,
		"The input of the linked.pre_snapshot() operation is invalid: /staged_source/parameters/port: expected integer, got string")
	// Names match exactly, in the SDK's types and the plugin's alike; every
	// problem is reported with its JSON pointer.
	wantError(t, e.call("linked.pre_snapshot", json.RawMessage(`{"staged_source":{"GUID":"g",`+connections+`,"parameters":{"Port":5,"colour":"red"}},"repository":{},"snapshot_parameters":null}`)), protocol.KindBadInput,
		"The input of the linked.pre_snapshot() operation is invalid: "+
			`/staged_source/GUID: property is not allowed: did you mean "guid"? (sdk.StagedSource[runtime.params] has the field GUID for "guid": names match exactly, case included)`+"\n"+
			`/staged_source/parameters/Port: property is not allowed: did you mean "port"? (runtime.params has the field Port for "port": names match exactly, case included)`+"\n"+
			`/staged_source/parameters/colour: property is not allowed: runtime.params has no field for it (give a field the json tag "colour" to take it)`)
	wantError(t, e.call("linked.pre_snapshot", json.RawMessage(`[]`)), protocol.KindBadInput,
		"The input of the linked.pre_snapshot() operation is invalid: the input is an array but should be a JSON object")
	both := `{"staged_source":{"staged_mount":{"remote_environment":{"reference":"E-1"},"mount_path":"/a"},"mounts":[{"remote_environment":{"reference":"E-1"},"mount_path":"/b"}]},"repository":{},"snapshot_parameters":{}}`
	wantError(t, e.call("linked.pre_snapshot", json.RawMessage(both)), protocol.KindBadInput,
		"The input of the linked.pre_snapshot() operation is invalid: /staged_source: Either staged_mount or mounts can be present for staging source. Found both staged_mount and mounts.")
}

func TestUpgradeCall(t *testing.T) {
	appendID := func(id string) func(context.Context, map[string]any) (map[string]any, error) {
		return func(_ context.Context, o map[string]any) (map[string]any, error) {
			o["trail"] = fmt.Sprint(o["trail"], ">", id)
			return o, nil
		}
	}
	p := &Plugin{Type: Direct, Migrations: []Migration{
		{Kind: "repository", ID: "2019.10.04", Func: MigrationFunc(appendID("b"))},
		{Kind: "repository", ID: "2019.04.01", Func: MigrationFunc(appendID("a"))},
		{Kind: "repository", ID: "1.10", Type: sdk.LuaMigration, Func: MigrationFunc(appendID("lua1.10"))},
		{Kind: "repository", ID: "1.9", Type: sdk.LuaMigration, Func: MigrationFunc(appendID("lua1.9"))},
		{Kind: "snapshot", ID: "3", Func: func(_ context.Context, old json.RawMessage) (json.RawMessage, error) {
			if strings.Contains(string(old), "fail") {
				return nil, &sdk.UserError{Message: "no", Action: "fix it"}
			}
			return json.RawMessage(`"not an object"`), nil
		}},
	}}
	e := startEngine(t, p)
	in := protocol.UpgradeInput{Kind: "repository", MigrationIDs: []string{"2019.4.1", "3", "2019.10.4"}, LuaUpgradeVersion: "1.9",
		PreUpgradeParameters: map[string]json.RawMessage{"REPO-1": json.RawMessage(`{"trail":"x"}`), "REPO-2": json.RawMessage(`{"trail":"y"}`)}}
	wantResult(t, e.call("upgrade", in), `{"post_upgrade_parameters":{"REPO-1":{"trail":"x\u003elua1.9\u003elua1.10\u003ea\u003eb"},"REPO-2":{"trail":"y\u003elua1.9\u003elua1.10\u003ea\u003eb"}}}`)

	snap := protocol.UpgradeInput{Kind: "snapshot", MigrationIDs: []string{"3"}, PreUpgradeParameters: map[string]json.RawMessage{"S-1": json.RawMessage(`{}`)}}
	wantError(t, e.call("upgrade", snap), protocol.KindBadOutput,
		"The migration '3' (PLATFORM, function 'github.com/dvpkit/dvp/sdk/runtime.TestUpgradeCall.func2') of upgrade.snapshot() returned a string for the object 'S-1' but should return a JSON object.")
	snap.PreUpgradeParameters["S-1"] = json.RawMessage(`{"x":"fail"}`)
	b := wantError(t, e.call("upgrade", snap), protocol.KindUser, "no")
	if b.Action != "fix it" {
		t.Fatal(b)
	}
	wantError(t, e.call("upgrade", map[string]any{"kind": "widget", "migration_ids": []string{}, "pre_upgrade_parameters": map[string]any{}}),
		protocol.KindBadInput, "The input of the upgrade() operation is invalid: the upgrade kind 'widget' is not one of")
	// No migrations for the kind: objects pass through.
	vs := protocol.UpgradeInput{Kind: "virtual_source", MigrationIDs: []string{"2019.4.1"}, PreUpgradeParameters: map[string]json.RawMessage{"V": json.RawMessage(`{"a":1}`)}}
	wantResult(t, e.call("upgrade", vs), `{"post_upgrade_parameters":{"V":{"a":1}}}`)
}

func TestDecodeInputEmbedded(t *testing.T) {
	type Common struct {
		Repository map[string]any `json:"repository"`
	}
	var in struct {
		Common
		SourceConfig map[string]any `json:"source_config"`
	}
	if err := DecodeInput(json.RawMessage(`{"repository":{"a":1},"source_config":{}}`), &in); err != nil || in.Repository["a"] != 1.0 {
		t.Fatalf("%+v %v", in, err)
	}
	// The struct lists the input fields the operation uses; the others are
	// not decoded, and a field's own members match exactly.
	var few struct {
		Repository struct {
			Name string `json:"name"`
		} `json:"repository"`
	}
	if err := DecodeInput(json.RawMessage(`{"source_connection":{"x":1},"repository":{"name":"r"},"source_config":"s"}`), &few); err != nil || few.Repository.Name != "r" {
		t.Fatalf("%+v %v", few, err)
	}
	var ie0 *InputError
	if err := DecodeInput(json.RawMessage(`{"repository":{"Name":"r"}}`), &few); !errors.As(err, &ie0) ||
		ie0.Message != `/repository/Name: property is not allowed: did you mean "name"? (the struct has the field Name for "name": names match exactly, case included)` {
		t.Fatal(err)
	}
	if err := DecodeInput(json.RawMessage(`{"Repository":{"name":"r"}}`), &few); !errors.As(err, &ie0) ||
		ie0.Message != "the input has no 'repository' field (it has 'Repository': names match exactly, case included)" {
		t.Fatal(err)
	}
	var ie *InputError
	if err := DecodeInput(json.RawMessage(`{"repository":{}}`), &in); !errors.As(err, &ie) || ie.Message != "the input has no 'source_config' field" {
		t.Fatal(err)
	}
	if err := DecodeInput(json.RawMessage(`{}`), in); !errors.As(err, &ie) {
		t.Fatal("a non-pointer was accepted")
	}
}
