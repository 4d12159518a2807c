//go:build linux

package pluginhost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/sandbox"
)

// TestSandboxed runs the staged plugin and its library commands in
// sandboxes: the plugin's own work directory and the commands' directory
// stay usable, a hidden directory and the engine's DVP_* variables do not.
func TestSandboxed(t *testing.T) {
	sb, err := sandbox.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DVP_ENGINE_ADMIN_PASSWORD", "hunter2")
	hidden := t.TempDir()
	if err := os.WriteFile(filepath.Join(hidden, "secrets.key"), []byte("KEY"), 0o600); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	f := newFixture(t, "staged", func(o *Options) {
		o.Dir = work
		o.Sandbox = sb
		o.Policy = sandbox.Policy{Hide: []string{hidden}, Expose: []sandbox.Bind{{Path: work, Writable: true}}, ReadOnly: true, Limits: sandbox.DefaultLimits()}
	})
	f.libs.Sandbox = sb
	f.libs.Policy = sandbox.Policy{Hide: []string{hidden}, Network: true, Limits: sandbox.DefaultLimits()}

	var repos []struct{ Name, Path string }
	f.call(t, "discovery.repository", map[string]any{"source_connection": connA}, &repos)
	if len(repos) != 1 || repos[0].Name != "repo-hello-envA" || repos[0].Path != f.dir {
		t.Fatalf("%+v", repos)
	}
	r := exercise(t, f,
		map[string]any{"lib": "run_bash", "command": `env; cat ` + filepath.Join(hidden, "secrets.key") + `; touch made-here`},
		map[string]any{"lib": "run_bash", "command": `kill -9 $$`},
		map[string]any{"lib": "run_bash", "command": `yes | head -c 70000000`},
		map[string]any{"lib": "run_bash", "command": `head -c 67108864 /dev/zero`},
	)
	if strings.Contains(r[0].Stdout, "hunter2") || strings.Contains(r[0].Stdout, "DVP_") || strings.Contains(r[0].Stdout, "KEY") || r[0].ExitCode != 0 {
		t.Errorf("run_bash: %+v", r[0])
	}
	if _, err := os.Stat(filepath.Join(f.dir, "made-here")); err != nil {
		t.Errorf("run_bash cannot write in its directory: %v", err)
	}
	if r[1].ExitCode != 137 {
		t.Errorf("killed script: %+v", r[1])
	}
	if !strings.Contains(r[2].Error, "The command printed more than 64 MiB on stdout or stderr") {
		t.Errorf("output over the cap: %+v", r[2])
	}
	// 64 MiB of NUL bytes would be 384 MiB of JSON: refused while read.
	if !strings.Contains(r[3].Error, "The command printed more than 64 MiB on stdout or stderr") || r[3].Stdout != "" {
		t.Errorf("NUL output over the cap: error %q, %d bytes of stdout", r[3].Error, len(r[3].Stdout))
	}
	// RunSync copies into the destination even when it is inside a hidden
	// directory.
	src := filepath.Join(f.dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "f"), []byte("data"), 0o644)
	f.libs.SyncDestination = filepath.Join(hidden, "storage")
	os.MkdirAll(f.libs.SyncDestination, 0o700)
	r = exercise(t, f, map[string]any{"lib": "run_sync", "sourceDir": src})
	if b, err := os.ReadFile(filepath.Join(hidden, "storage", "f")); err != nil || string(b) != "data" || r[0].Error != "" {
		t.Errorf("run_sync: %+v, %q, %v", r[0], b, err)
	}
}
