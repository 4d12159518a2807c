//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHostilePluginProcessesBounded: --max-processes bounds a plugin
// process with everything it starts, its commands on local environments
// included. testdata/plugins/hostile (memory.go) makes 16 run_bash calls
// at once that each fork until the kernel refuses; each had a whole
// --max-processes of its own, so the plugin held 16 x 64 processes here.
// A root engine puts the commands' cgroups inside the plugin process's;
// an engine that is not root (here nobody) has no cgroups and gives the
// plugin process and each command their share of the limit
// (sandbox.ProcessShares). Either way all of them together stay within 64.
func TestHostilePluginProcessesBounded(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the test runs a root engine and one as nobody: run it as root")
	}
	check := func(t *testing.T, unprivileged bool) {
		got, _, _, _ := hostileRun(t, "processes", unprivileged, "--max-processes", "64")
		var total, failed int
		if _, err := fmt.Sscanf(got["bash-processes"], "%d forked, %d calls failed", &total, &failed); err != nil || total > 64 || failed == 16 && !strings.Contains(got["bash-processes"], "resource") {
			t.Errorf("16 local commands forking at once under --max-processes 64: %q; want at most 64 processes in all", got["bash-processes"])
		}
	}
	t.Run("root engine", func(t *testing.T) { check(t, false) })
	t.Run("engine user nobody", func(t *testing.T) {
		if _, err := exec.LookPath("setpriv"); err != nil {
			t.Skip("no setpriv to start the engine as nobody")
		}
		check(t, true)
	})
}
