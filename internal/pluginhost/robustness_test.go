package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestPanics(t *testing.T) {
	f := newFixture(t, "panics")
	pe := f.fail(t, nil, "discovery.repository", map[string]any{}, KindPanic,
		"The plugin panicked in the discovery.repository() operation: assignment to entry in nil map")
	if !strings.Contains(pe.Output, "goroutine") || pe.Action != "Contact the plugin author to correct the error." {
		t.Fatalf("%+v", pe)
	}
	pid := f.PID()
	var status string
	f.call(t, "linked.status", map[string]any{}, &status)
	if status != "ACTIVE" || f.PID() != pid || pid == 0 {
		t.Fatalf("after a recovered panic: %s, pid %d -> %d", status, pid, f.PID())
	}
	f.fail(t, nil, "linked.worker", map[string]any{}, KindPlugin, "The linked.worker() operation stopped without returning (runtime.Goexit was called).")

	// A panic in a goroutine kills the process: a crash, then a fresh process.
	pe = f.fail(t, nil, "discovery.source_config", map[string]any{}, KindCrashed,
		"The plugin process exited unexpectedly during the discovery.source_config() operation (exit status 2).")
	if !strings.Contains(pe.Output, "panic: panic in a goroutine") {
		t.Fatalf("stderr tail: %q", pe.Output)
	}
	f.call(t, "linked.status", map[string]any{}, &status)
	if f.PID() == pid || f.PID() == 0 {
		t.Fatal("no fresh process after the crash")
	}
}

func TestWrongShape(t *testing.T) {
	f := newFixture(t, "wrongshape")
	for _, c := range []struct{ op, kind, msg string }{
		{"linked.mount_specification", KindBadOutput, "The returned object for the linked.mount_specification() operation was null (Go type *sdk.MountSpecification) but should be an sdk.MountSpecification."},
		{"discovery.repository", KindBadOutput, "The returned object for the discovery.repository() operation was a list whose element 0 is a string (Go type []string) but should be a list of RepositoryDefinition objects."},
		{"discovery.source_config", KindBadOutput, "The returned object for the discovery.source_config() operation (Go type chan int) cannot be encoded to JSON: json: unsupported type: chan int"},
		{"linked.status", KindBadOutput, "The returned object for the linked.status() operation (Go type sdk.Status) cannot be encoded to JSON"},
		{"linked.post_snapshot", KindBadOutput, "The returned object for the linked.post_snapshot() operation (Go type main.panicky) cannot be encoded to JSON: panic while encoding: MarshalJSON exploded"},
		{"virtual.configure", KindBadOutput, "The returned object for the virtual.configure() operation was a string (Go type string) but should be a SourceConfigDefinition object."},
		{"virtual.mount_specification", KindBadOutput, "Mount 1 of the mount specification (mount path '/mnt/x') has no remote environment"},
	} {
		f.fail(t, nil, c.op, map[string]any{"staged_source": map[string]any{}}, c.kind, c.msg)
	}
	pid := f.PID()
	var status string
	f.call(t, "virtual.status", map[string]any{}, &status)
	if status != "ACTIVE" || f.PID() != pid {
		t.Fatal("the process did not survive wrong shapes")
	}
}

func TestSizeLimits(t *testing.T) {
	f := newFixture(t, "toolarge")
	// The host refuses an input over 4 MiB without starting the plugin.
	big := map[string]string{"blob": strings.Repeat("i", 4<<20)}
	f.fail(t, nil, "virtual.configure", big, KindTooLarge, "The input of the virtual.configure() operation is 4194315 bytes, over the 4194304-byte (4 MiB) limit for operation inputs.")
	if f.PID() != 0 {
		t.Fatal("the plugin was started for an oversized input")
	}
	f.fail(t, nil, "virtual.configure", map[string]any{}, KindTooLarge, "The output of the virtual.configure() operation is 5242891 bytes, over the 4194304-byte (4 MiB) limit for operation outputs.")
	pid := f.PID()
	// Library traffic may exceed 4 MiB: a 6 MiB log record.
	f.call(t, "linked.worker", map[string]any{}, nil)
	if !strings.Contains(f.info.String(), "INFO [linked.worker] yyyy") || len(f.info.String()) < 6<<20 {
		t.Fatalf("the large log record was not delivered (%d bytes)", len(f.info.String()))
	}
	f.call(t, "discovery.repository", map[string]any{}, nil)
	if f.PID() != pid {
		t.Fatal("the process was replaced")
	}
}

func TestStdoutIsNotTheProtocol(t *testing.T) {
	f := newFixture(t, "stdout")
	var repos []map[string]any
	f.call(t, "discovery.repository", map[string]any{}, &repos)
	if len(repos) != 1 || repos[0]["name"] != "clean" || repos[0]["stdinBytes"] != 0.0 {
		t.Fatalf("%v", repos)
	}
	f.call(t, "discovery.repository", map[string]any{}, &repos)
	stderr := f.stderr.String()
	for _, s := range []string{"[stdout before handshake] noise from init", "garbage from fmt.Println", "garbage from os.Stdout", "garbage on descriptor 1", "garbage from a child process"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("%q is not in the plugin's stderr:\n%s", s, stderr)
		}
	}
}

func TestHangingPluginIsKilled(t *testing.T) {
	f := newFixture(t, "hangs", func(o *Options) { o.CancelGrace = 300 * time.Millisecond })
	var status string
	f.call(t, "linked.status", map[string]any{}, &status)
	pid := f.PID()

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	f.fail(t, ctx, "discovery.repository", map[string]any{}, KindTimeout,
		"The discovery.repository() operation did not finish before its deadline (context deadline exceeded) and the plugin did not stop within 300ms of the cancellation: the plugin process was killed.")
	// The deadline and the grace were both waited for (a lower bound:
	// timers never fire early, so a busy machine cannot break it)...
	if d := time.Since(start); d < 550*time.Millisecond {
		t.Fatalf("took %s", d)
	}
	// ...and the process is gone: killed and reaped when the call returns.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("the hanging process %d still exists (%v)", pid, err)
	}
	f.call(t, "linked.status", map[string]any{}, &status)
	if f.PID() == pid {
		t.Fatal("the hanging process was not replaced")
	}
	pid = f.PID()

	// An operation that honours cancellation keeps its process.
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	f.fail(t, ctx, "discovery.source_config", map[string]any{}, KindTimeout,
		"The discovery.source_config() operation did not finish before its deadline (context deadline exceeded) and the plugin stopped it.")
	// So does one waiting in a library call (sleep 30): the host stops the
	// command, so the plugin stops within the 300ms grace, and keeps its
	// process (checked below); a command left running would have had the
	// plugin killed.
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	f.fail(t, ctx, "linked.worker", map[string]any{}, KindTimeout,
		"The linked.worker() operation did not finish before its deadline (context deadline exceeded) and the plugin stopped it.")
	// An explicit cancellation.
	ctx, cancelNow := context.WithCancelCause(context.Background())
	time.AfterFunc(100*time.Millisecond, func() { cancelNow(errors.New("the user stopped the job")) })
	f.fail(t, ctx, "discovery.source_config", map[string]any{}, KindCancelled,
		"The discovery.source_config() operation was cancelled (the user stopped the job) and the plugin stopped it.")
	f.call(t, "linked.status", map[string]any{}, &status)
	if f.PID() != pid {
		t.Fatal("a cooperative plugin was killed")
	}
}

func TestInvalidPluginRefusesToServe(t *testing.T) {
	f := newFixture(t, "invalid")
	pe := f.fail(t, nil, "discovery.repository", map[string]any{}, KindInvalidPlugin, "The plugin's registrations are invalid:\n  'linked.bogus' is not a plugin operation.")
	if pe.Operation != "" && pe.Operation != "discovery.repository" {
		t.Fatal(pe.Operation)
	}
}

func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plugin.sh")
	if err := os.WriteFile(p, []byte("#!/bin/bash\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

const scriptHello = `read -r hello
echo '{"type":"hello","version":1,"sdk_version":"script","plugin_type":"STAGED"}'
read -r call
`

func scriptFixture(t *testing.T, body string) *fixture {
	return newFixture(t, "staged", func(o *Options) { o.Binary = writeScript(t, body) })
}

func TestProtocolViolations(t *testing.T) {
	starts := filepath.Join(t.TempDir(), "starts")
	f := scriptFixture(t, "echo started >> "+starts+"\n"+scriptHello+"echo 'this is not a message'\nsleep 30\n")
	f.fail(t, nil, "discovery.repository", map[string]any{}, KindProtocol,
		`The plugin broke the runtime protocol during the discovery.repository() operation (a line is not a protocol message`)
	f.fail(t, nil, "discovery.repository", map[string]any{}, KindProtocol, "The plugin broke the runtime protocol")
	if b, _ := os.ReadFile(starts); string(b) != "started\nstarted\n" {
		t.Fatalf("starts: %q; want a fresh process after a violation", b)
	}

	f = scriptFixture(t, scriptHello+`echo '{"type":"result","id":"c99","output":1}'`+"\nsleep 30\n")
	f.fail(t, nil, "linked.status", map[string]any{}, KindProtocol, `The plugin broke the runtime protocol during the linked.status() operation (the plugin answered a call "c99" that is not running)`)

	// Output over 4 MiB from a plugin that does not check it.
	f = scriptFixture(t, scriptHello+`printf '{"type":"result","id":"c1","output":"%s"}\n' "$(head -c 5000000 /dev/zero | tr '\0' x)"`+"\nread -r next\n")
	f.fail(t, nil, "virtual.configure", map[string]any{}, KindTooLarge, "The output of the virtual.configure() operation is 5000002 bytes, over the 4194304-byte (4 MiB) limit")

	// An exit during the call.
	f = scriptFixture(t, scriptHello+"echo dying >&2\nexit 7\n")
	pe := f.fail(t, nil, "linked.status", map[string]any{}, KindCrashed, "The plugin process exited unexpectedly during the linked.status() operation (exit status 7).")
	if !strings.Contains(pe.Output, "dying") {
		t.Fatal(pe.Output)
	}
	// A library request outside the running call is refused, and the call
	// goes on.
	f = scriptFixture(t, scriptHello+`echo '{"type":"request","id":"r1","call":"other","method":"run_bash","params":{}}'
read -r response
printf '{"type":"result","id":"c1","output":%s}\n' "$(printf '%s' "$response" | sed 's/.*"error":\({[^}]*}\).*/\1/')"
read -r next
`)
	raw, err := f.Call(ctxTimeout(t, 30e9), "virtual.configure", map[string]any{})
	var body map[string]string
	if err != nil || json.Unmarshal(raw, &body) != nil || body["id"] != LibErrNoCall {
		t.Fatalf("%s %v", raw, err)
	}
}

func TestStartFailures(t *testing.T) {
	for _, c := range []struct{ binary, msg string }{
		{"/nonexistent/plugin", "The plugin /nonexistent/plugin cannot be started"},
		{"/bin/true", "The plugin exited before the handshake (exit status 0)."},
		{"/bin/cat", "The plugin chose protocol version 0; this engine speaks version 1."}, // echoes the engine's hello
	} {
		f := newFixture(t, "staged", func(o *Options) { o.Binary, o.Args = c.binary, []string{} })
		f.fail(t, nil, "linked.status", map[string]any{}, KindStart, c.msg)
	}
	f := newFixture(t, "staged", func(o *Options) {
		o.Binary = writeScript(t, "sleep 30\n")
		o.StartTimeout = 200 * time.Millisecond
	})
	f.fail(t, nil, "linked.status", map[string]any{}, KindStart, "The plugin did not answer the handshake within 200ms.")
}

func TestConcurrentCallsAndClose(t *testing.T) {
	f := newFixture(t, "staged")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw, err := f.Call(ctxTimeout(t, 30e9), "virtual.status", map[string]any{
				"virtual_source": virtualSource(f, map[string]any{}), "repository": map[string]any{}, "source_config": map[string]any{}})
			if err == nil && string(raw) != `"INACTIVE"` {
				err = errors.New(string(raw))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	pid := f.PID()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f.fail(t, nil, "virtual.status", map[string]any{}, KindStart, "The plugin host is closed.")
	if p, err := os.FindProcess(pid); err == nil {
		if p.Signal(nilSignal) == nil {
			t.Fatalf("process %d still runs after Close", pid)
		}
	}
}
