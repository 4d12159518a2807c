//go:build e2e

package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestHostilePluginSecretsBounded: the engine registers every secret a
// plugin obtains through retrieve_credentials (and upgrade_password) with
// its redactor, so that no log or message shows it, and keeps it as long
// as it runs. A plugin made up suppliers with a new password each
// (testdata/plugins/hostile, secrets.go): 300 calls with 1 MiB ones and
// 2000 with 32 KiB ones made the engine hold 364 MiB more, for ever, and a discovery could go on until the engine's
// memory ran out. Now a secret a plugin hands the engine is at most
// 64 KiB, and a plugin process may make it learn at most 1 MiB of new
// ones (64 MiB for all plugins): beyond, the call is refused, saying why.
func TestHostilePluginSecretsBounded(t *testing.T) {
	_, e, _, _ := hostileRun(t, "quiet", false)
	before := rssKiB(t, e.cmd.Process.Pid)
	got := hostileDiscover(t, e, "secrets")
	after := rssKiB(t, e.cmd.Process.Pid)
	t.Logf("engine RSS %d -> %d MiB", before>>10, after>>10)
	for k, says := range map[string]string{
		"secrets-big":  "a credential a plugin hands the engine holds at most 65536 bytes",
		"secrets-many": "a plugin process may make the engine learn at most 1048576 bytes of new secrets",
	} {
		if v := got[k]; !strings.Contains(v, says) || strings.Contains(v, " 0 refused") {
			t.Errorf("%s: retrieve_credentials of made-up passwords: %q, want them refused saying %q", k, v, says)
		}
	}
	if after-before > 100<<10 {
		t.Errorf("the engine's RSS grew by %d MiB (from %d) after the plugin's made-up credentials", (after-before)>>10, before>>10)
	}
}

// rssKiB is the resident size of process pid.
func rssKiB(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
