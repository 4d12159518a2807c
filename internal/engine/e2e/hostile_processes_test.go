//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestHostilePluginProcessesBounded: --max-processes bounds a plugin
// process with everything it starts, its commands on local environments
// included. testdata/plugins/hostile (memory.go) makes 16 run_bash calls
// at once that each fork until the kernel refuses; each had a whole
// --max-processes of its own, so the plugin held 16 x 64 processes here.
// A root engine puts the commands' cgroups inside the plugin process's:
// all of them together stay within 64 (an engine that is not root has no
// cgroups: docs/engine.md, "Sandbox", says what holds there).
func TestHostilePluginProcessesBounded(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the shared bound needs cgroups: a root engine")
	}
	got, _, _, _ := hostileRun(t, "processes", false, "--max-processes", "64")
	var total, failed int
	if _, err := fmt.Sscanf(got["bash-processes"], "%d forked, %d calls failed", &total, &failed); err != nil || total > 64 || failed == 16 && !strings.Contains(got["bash-processes"], "resource") {
		t.Errorf("16 local commands forking at once under --max-processes 64: %q; want at most 64 processes in all", got["bash-processes"])
	}
}
