package exec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dvpkit/dvp/internal/logging"
)

// TestLearnedSecretsBounded: the secrets plugin processes make the engine
// learn (retrieve_credentials, upgrade_password) are registered with the
// redactor for as long as the engine runs: one holds at most 64 KiB, one
// plugin process 1 MiB of new ones, all of them 64 MiB; a secret the
// redactor knows costs nothing. (Through the engine and a real plugin:
// internal/engine/e2e hostile_secrets_test.go.)
func TestLearnedSecretsBounded(t *testing.T) {
	red := logging.NewRedactor()
	rn := &Runner{Secret: red.Add, Known: red.Known}
	process := func() *engineLibraries { return &engineLibraries{rn: rn} }
	p := process()
	if err := p.learn(strings.Repeat("k", MaxPluginSecret+1)); err == nil || !strings.Contains(err.Error(), "holds at most 65536 bytes") {
		t.Errorf("a secret over 64 KiB: %v", err)
	}
	secret := func(i int) string { return fmt.Sprintf("%08d", i) + strings.Repeat("x", MaxPluginSecret-8) }
	n := 0
	for ; n < 100; n++ {
		if err := p.learn(secret(n)); err != nil {
			if !strings.Contains(err.Error(), "a plugin process may make the engine learn at most 1048576 bytes") {
				t.Fatalf("refusal: %v", err)
			}
			break
		}
	}
	if n != MaxPluginSecretBytes/MaxPluginSecret {
		t.Errorf("one plugin process registered %d secrets of 64 KiB, want %d", n, MaxPluginSecretBytes/MaxPluginSecret)
	}
	if !red.Known(secret(0)) || red.Redact("pw "+secret(0)) != "pw "+logging.Mask {
		t.Errorf("a learned secret is not masked")
	}
	// Known ones cost nothing, even past the process's bound.
	if err := p.learn(secret(0)); err != nil {
		t.Errorf("a known secret: %v", err)
	}
	// All plugin processes together: 64 MiB.
	rn.secretBytes.Store(MaxAllPluginSecretBytes - 10)
	if err := process().learn(strings.Repeat("z", 100)); err == nil || !strings.Contains(err.Error(), "Restart the engine") {
		t.Errorf("past the engine's bound: %v", err)
	}
	if got := rn.secretBytes.Load(); got != MaxAllPluginSecretBytes-10 {
		t.Errorf("a refused secret was counted: %d", got)
	}
}
