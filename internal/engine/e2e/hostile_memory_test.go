//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostilePluginMemoryBounded: a plugin decides what the engine holds
// for its library calls. testdata/plugins/hostile (memory.go) makes 16
// run_bash calls at once that each print 8 MiB and keep it until all have
// printed — the engine held each output several times over (its buffer,
// the result's strings, the JSON, the message): its peak RSS was 589 MiB
// here, gigabytes at 64 MiB per stream — and writes a 9 MB library request
// straight to the protocol's descriptor, past the SDK (the engine read
// requests of up to 192 MiB, 16 at once). With --max-library-memory 64MiB
// (32 MiB for one plugin process) the calls beyond are refused saying
// why, the oversized message ends the plugin process saying why, and the
// engine's peak memory stays near its budget (about 80 MiB).
func TestHostilePluginMemoryBounded(t *testing.T) {
	got, e, data, _ := hostileRun(t, "memory", false, "--max-library-memory", "64MiB")
	var ok, refused int
	if _, err := fmt.Sscanf(got["bash-memory"], "%d ok, %d refused", &ok, &refused); err != nil || ok < 1 || refused < 1 || ok+refused != 16 ||
		!strings.Contains(got["bash-memory"], "was refused: it needs") || !strings.Contains(got["bash-memory"], "of the 32 MiB the engine allows them (dvp engine serve --max-library-memory") {
		t.Errorf("16 calls printing 8 MiB each with 32 MiB for the plugin process: %q; want some whole outputs, the others refused saying why", got["bash-memory"])
	}
	rec := &recorder{t: t, home: filepath.Join(filepath.Dir(data), "client"), env: []string{"DVP_PASSWORD=" + adminPassword}}
	r := rec.run("", nil, "environment", "add", "bigmessage", "--local", "-e", e.url, "-u", "admin")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "longer than the 8388608-byte (8 MiB) limit of a plugin's messages") {
		t.Errorf("a 9 MB message from the plugin: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	kib := vmHWM(t, e.cmd.Process.Pid)
	t.Logf("the engine's peak RSS: %d MiB", kib>>10)
	if kib > 200<<10 {
		t.Errorf("the engine's peak RSS reached %d MiB with a 64 MiB budget for library calls", kib>>10)
	}
	if r := rec.run("", nil, "environment", "list", "-e", e.url, "-u", "admin"); r.code != 0 || !strings.Contains(r.stdout, "memory") {
		t.Errorf("the engine does not answer after the attacks: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
