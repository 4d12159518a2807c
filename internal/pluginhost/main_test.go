package pluginhost

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dvpkit/dvp/internal/sandbox"
	"github.com/dvpkit/dvp/internal/testbuild"
	"github.com/dvpkit/dvp/internal/testio"
	"github.com/dvpkit/dvp/sdk"
)

var binDir string

// TestMain builds every test plugin with one offline go build, or finds
// them built by another test package (internal/testbuild).
func TestMain(m *testing.M) {
	dir, err := testbuild.Binaries(filepath.Join("..", ".."),
		append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "CGO_ENABLED=0"),
		[]string{"-trimpath"}, "./testdata/plugins/...")
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the test plugins: %v\n", err)
		os.Exit(1)
	}
	binDir = dir
	os.Exit(m.Run())
}

func pluginPath(name string) string { return filepath.Join(binDir, name) }

type fixture struct {
	*Host
	libs                *LocalLibraries
	debug, info, errLog *testio.Buffer
	stderr              *testio.Buffer
	dir                 string
}

func newFixture(t *testing.T, plugin string, configure ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{debug: &testio.Buffer{}, info: &testio.Buffer{}, errLog: &testio.Buffer{}, stderr: &testio.Buffer{}, dir: t.TempDir()}
	// The commands run with a home directory of their own: a login shell
	// (run_bash's use_login_shell) reads the home's profile, and the
	// developer's (say one that runs pyenv rehash, which waits up to 60 s
	// for a lock other shells hold) is no part of the test.
	f.libs = &LocalLibraries{Dir: f.dir, SyncDestination: filepath.Join(f.dir, "dsource"),
		Env:      sandbox.Env(nil, "", "HOME="+t.TempDir()),
		DebugLog: f.debug, InfoLog: f.info, ErrorLog: f.errLog}
	opts := Options{Binary: pluginPath(plugin), Libraries: f.libs, Stderr: f.stderr}
	for _, c := range configure {
		c(&opts)
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.Host = h
	t.Cleanup(func() { h.Close() })
	return f
}

// start starts the plugin process and waits for its handshake, without a
// deadline: a test's next call then measures its deadline from the call,
// not from a start that a busy machine made slow.
func (f *fixture) start(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, perr := f.process(context.Background()); perr != nil {
		t.Fatalf("starting the plugin: %v\nplugin stderr:\n%s", perr, f.stderr.String())
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// call runs an operation that must succeed and decodes its output.
func (f *fixture) call(t *testing.T, op string, input any, out any) json.RawMessage {
	t.Helper()
	raw, err := f.Call(ctxTimeout(t, 30*time.Second), op, input)
	if err != nil {
		t.Fatalf("%s: %v\nplugin stderr:\n%s", op, err, f.stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: decoding %s: %v", op, raw, err)
		}
	}
	return raw
}

// fail runs an operation that must fail and returns its PluginError.
func (f *fixture) fail(t *testing.T, ctx context.Context, op string, input any, kind, msgPrefix string) *PluginError {
	t.Helper()
	if ctx == nil {
		ctx = ctxTimeout(t, 30*time.Second)
	}
	raw, err := f.Call(ctx, op, input)
	pe, ok := err.(*PluginError)
	if !ok {
		t.Fatalf("%s: got %s, %v (%T); want a PluginError %s", op, raw, err, err, kind)
	}
	if pe.Kind != kind || !strings.HasPrefix(pe.Message, msgPrefix) || pe.Operation != op && pe.Operation != "" {
		t.Fatalf("%s: got %s %q (output %.300q)\nwant %s %q", op, pe.Kind, pe.Message, pe.Output, kind, msgPrefix)
	}
	if pe.Action == "" {
		t.Fatalf("%s: empty action", op)
	}
	return pe
}

var (
	envA  = sdk.RemoteEnvironment{Name: "envA", Reference: "UNIX_HOST_ENVIRONMENT-1", Host: sdk.RemoteHost{Name: "localhost", Reference: "UNIX_HOST-1", ScratchPath: "/tmp"}}
	connA = sdk.RemoteConnection{Environment: envA, User: sdk.RemoteUser{Name: "delphix", Reference: "HOST_USER-1"}}
)
